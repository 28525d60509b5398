using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Build
{
    /// <summary>One report from a build: the step it is at, and a line of output when there is one.</summary>
    public sealed class BuildProgress
    {
        public string Tag { get; set; } = "";
        public int Step { get; set; }
        public int StepCount { get; set; }
        public string Instruction { get; set; } = "";
        /// <summary>A line of build output; null for reports of the context upload.</summary>
        public string? Line { get; set; }
        public long ContextBytesSent { get; set; }
        public long ContextBytesTotal { get; set; }
    }
}
