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
    public sealed class BuildResult
    {
        public string Tag { get; set; } = "";
        public string ImageId { get; set; } = "";
        /// <summary>True when an image of the same inputs already existed and nothing was built.</summary>
        public bool CacheHit { get; set; }
        public string Hash { get; set; } = "";
        public TimeSpan Elapsed { get; set; }
    }
}
