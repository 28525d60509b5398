using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Files;

namespace Sandbox.Lifecycle
{
    /// <summary>-Path copied into a new sandbox (-PathAccess Copy, a remote engine, a cluster), owned by the sandbox's user.</summary>
    static class WorkspaceCopy
    {
        public static async Task CopyInAsync(DockerEngine engine, string containerId, SandboxSpec spec, IProgress<TransferProgress>? progress, CancellationToken cancel)
        {
            if (!spec.CopyCode || spec.CodePath == null) return;
            // Copied files would belong to root; the sandbox's own user must be able to change its code.
            var owner = spec.User != null ? await NumericUserAsync(engine, containerId).ConfigureAwait(false) : null;
            await new ArchiveTransfer(engine).UploadAsync(containerId, new[] { spec.CodePath }, spec.WorkingDirectory, contentsOnly: true, progress, cancel, owner).ConfigureAwait(false);
        }

        /// <summary>The uid and gid the sandbox's processes run as, asked of the sandbox itself (names resolve there).</summary>
        static async Task<(int Uid, int Gid)?> NumericUserAsync(DockerEngine engine, string id)
        {
            var exec = await engine.Client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters
            {
                Cmd = new List<string> { "/bin/sh", "-c", "echo $(id -u) $(id -g)" },
                AttachStdout = true,
                AttachStderr = true,
            }, CancellationToken.None).ConfigureAwait(false);
            using var stream = await engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), CancellationToken.None).ConfigureAwait(false);
            var (stdout, _) = await stream.ReadOutputToEndAsync(CancellationToken.None).ConfigureAwait(false);
            var parts = stdout.Trim().Split(' ');
            return parts.Length == 2 && int.TryParse(parts[0], out var uid) && int.TryParse(parts[1], out var gid) ? (uid, gid) : ((int, int)?)null;
        }
    }
}
