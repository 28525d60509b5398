using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>The container runtimes an engine has (runc, runsc for gVisor, ...), which -Runtime chooses among.</summary>
    public static class EngineRuntimes
    {
        /// <summary>What a sandbox made without -Runtime shows when the engine does not say otherwise.</summary>
        public const string Default = "runc";

        static readonly Regex NamePattern = new Regex(@"^[A-Za-z0-9][A-Za-z0-9_.+-]*\z");

        /// <summary>A runtime with its own kernel: gVisor's runsc, and any but runc.</summary>
        public static bool HasOwnKernel(string? runtime) =>
            !string.IsNullOrEmpty(runtime) && runtime != "runc" && !runtime!.StartsWith("io.containerd.runc.", StringComparison.Ordinal);

        /// <summary>
        /// A runtime with its own kernel may keep an empty /tmp in its memory, out of the engine's reach; the sandbox then
        /// gets a volume there.
        /// </summary>
        public static bool KeepsTmpInside(string? runtime) => HasOwnKernel(runtime);

        /// <summary>
        /// The engine's pids limit counts a runtime with its own kernel's threads and helper processes on the host, not the
        /// processes inside: runsc 20221219 (ptrace platform) idles at about 50 and takes about 8 more for each process
        /// inside, and it stops the whole sandbox at once when the limit refuses it one. So the limit asked for is that
        /// many processes inside: the engine gets this many host pids for each, plus <see cref="OwnKernelHostPidsBase"/>.
        /// </summary>
        public const long OwnKernelHostPidsEach = 10;

        /// <summary>The host pids a runtime with its own kernel uses for itself (see <see cref="OwnKernelHostPidsEach"/>).</summary>
        public const long OwnKernelHostPidsBase = 100;

        /// <summary>The engine's pids limit for a sandbox that asks for <paramref name="requested"/> processes (0 or less: none).</summary>
        public static long? HostPidsLimit(long? requested, string? runtime) =>
            requested > 0 && HasOwnKernel(runtime) ? requested * OwnKernelHostPidsEach + OwnKernelHostPidsBase : requested;

        public static void Validate(string runtime)
        {
            if (!NamePattern.IsMatch(runtime))
                throw new SandboxException("InvalidRuntime", SandboxErrorKind.InvalidArgument,
                    $"'{runtime}' is not a runtime name. Use a name the engine registered, such as runc or runsc.", runtime);
        }

        /// <summary>A swarm service has no runtime setting in the engine API this module speaks (1.41).</summary>
        public static void RefuseOnCluster(string? runtime, DockerEndpoint endpoint)
        {
            if (runtime != null && endpoint.IsCluster)
                throw new SandboxException("RuntimeNotOnCluster", SandboxErrorKind.InvalidArgument,
                    $"A swarm service cannot choose its container runtime, so -Runtime {runtime} cannot place a sandbox on cluster {endpoint.Host}.", runtime,
                    $"Use -DockerHost with the engine of one node that has '{runtime}' instead of -Cluster, or make '{runtime}' the default runtime of every node (\"default-runtime\" in each node's daemon.json).");
        }

        /// <summary>The engine's runtimes by name, sorted, and its default.</summary>
        public static async Task<(IReadOnlyList<string> Names, string DefaultName)> ListAsync(DockerEngine engine, CancellationToken cancel)
        {
            var info = await engine.Client.System.GetSystemInfoAsync(cancel).ConfigureAwait(false);
            var names = (info.Runtimes?.Keys ?? (ICollection<string>)Array.Empty<string>())
                .OrderBy(n => n, StringComparer.Ordinal).ToList();
            return (names, string.IsNullOrEmpty(info.DefaultRuntime) ? Default : info.DefaultRuntime);
        }

        /// <summary>Fails with <see cref="NotRegistered"/> when the engine lacks the runtime; for checks before any create (a pool).</summary>
        public static async Task EnsureAsync(DockerEngine engine, string? runtime, CancellationToken cancel)
        {
            if (runtime == null) return;
            var (names, defaultName) = await ListAsync(engine, cancel).ConfigureAwait(false);
            if (!names.Contains(runtime, StringComparer.Ordinal)) throw NotRegistered(runtime, names, defaultName, engine.Endpoint.Host);
        }

        /// <summary>The engine's answer to a create that names a runtime it does not have.</summary>
        public static bool IsUnknownRuntime(DockerApiException e) =>
            Regex.IsMatch(EngineErrors.Message(e), "unknown runtime specified", RegexOptions.IgnoreCase);

        /// <summary>The error for a create the engine refused for want of the runtime, with the runtimes it has.</summary>
        public static async Task<SandboxException> NotRegisteredAsync(DockerEngine engine, string runtime, DockerApiException refusal)
        {
            IReadOnlyList<string> names = Array.Empty<string>();
            var defaultName = Default;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                (names, defaultName) = await ListAsync(engine, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!(e is OutOfMemoryException)) { }
            return NotRegistered(runtime, names, defaultName, engine.Endpoint.Host, refusal);
        }

        static SandboxException NotRegistered(string runtime, IReadOnlyList<string> names, string defaultName, string host, Exception? inner = null)
        {
            var has = names.Count == 0 ? "did not say which runtimes it has" : $"has: {string.Join(", ", names)} (default {defaultName})";
            var example = runtime == "runsc" ? "/usr/bin/runsc (Debian/Ubuntu: apt-get install runsc)" : $"/path/to/{runtime}";
            return new SandboxException("RuntimeNotFound", SandboxErrorKind.ObjectNotFound,
                $"The engine at {host} has no runtime '{runtime}'; it {has}.", runtime,
                $"Use one of those, or register '{runtime}' in the engine's daemon.json (\"runtimes\": {{\"{runtime}\": {{\"path\": \"{example}\"}}}}) " +
                "and reload the engine (kill -HUP the dockerd process, or systemctl reload docker).", inner);
        }
    }
}
