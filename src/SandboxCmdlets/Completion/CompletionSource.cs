using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Completion
{
    /// <summary>What the completers offer: the sandboxes and local images of the engines the command line names.</summary>
    static class CompletionSource
    {
        /// <summary>The longest a Tab press waits for an engine.</summary>
        public static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(300);

        static readonly CompletionCache<IReadOnlyList<Sandbox>> SandboxLists = new CompletionCache<IReadOnlyList<Sandbox>>();
        static readonly CompletionCache<IReadOnlyList<string>> ImageLists = new CompletionCache<IReadOnlyList<string>>();
        static readonly CompletionCache<IReadOnlyList<string>> NetworkLists = new CompletionCache<IReadOnlyList<string>>();
        static readonly CompletionCache<IReadOnlyList<string>> FolderListings = new CompletionCache<IReadOnlyList<string>>();
        static readonly CompletionCache<IReadOnlyList<(string Name, bool IsDefault)>> RuntimeLists = new CompletionCache<IReadOnlyList<(string Name, bool IsDefault)>>();
        static int _generation;

        /// <summary>Called when this process creates or removes sandboxes, so that the next Tab asks the engine again.</summary>
        public static void Invalidate() => Interlocked.Increment(ref _generation);

        /// <summary>For module removal: the cached lists go, with the sandbox objects they hold.</summary>
        public static void Forget()
        {
            SandboxLists.Clear();
            ImageLists.Clear();
            NetworkLists.Clear();
            FolderListings.Clear();
            RuntimeLists.Clear();
        }

        public static IEnumerable<Sandbox> Sandboxes(IDictionary? fakeBoundParameters)
        {
            var deadline = DateTime.UtcNow + Budget;
            foreach (var endpoint in Endpoints(fakeBoundParameters))
            {
                var list = SandboxLists.Get(endpoint.CacheKey, async cancel =>
                {
                    var manager = await SandboxManager.ConnectAsync(endpoint, cancel).ConfigureAwait(false);
                    return await manager.ListAsync(cancel).ConfigureAwait(false);
                }, deadline, Volatile.Read(ref _generation));
                if (list != null) foreach (var sandbox in list) yield return sandbox;
            }
        }

        public static IEnumerable<string> Images(IDictionary? fakeBoundParameters)
        {
            var deadline = DateTime.UtcNow + Budget;
            foreach (var endpoint in Endpoints(fakeBoundParameters))
            {
                var list = ImageLists.Get(endpoint.CacheKey, async cancel =>
                {
                    var engine = await DockerEngine.ConnectAsync(endpoint, cancel).ConfigureAwait(false);
                    var images = await engine.Client.Images.ListImagesAsync(new ImagesListParameters(), cancel).ConfigureAwait(false);
                    return (IReadOnlyList<string>)images.SelectMany(i => i.RepoTags ?? (IList<string>)Array.Empty<string>())
                        .Where(tag => !string.IsNullOrEmpty(tag) && !tag.StartsWith("<none>", StringComparison.Ordinal))
                        .Distinct(StringComparer.Ordinal).OrderBy(tag => tag, StringComparer.OrdinalIgnoreCase).ToList();
                }, deadline, Volatile.Read(ref _generation));
                if (list != null) foreach (var image in list) yield return image;
            }
        }

        public static IEnumerable<string> Networks(IDictionary? fakeBoundParameters)
        {
            var deadline = DateTime.UtcNow + Budget;
            foreach (var endpoint in Endpoints(fakeBoundParameters))
            {
                var list = NetworkLists.Get(endpoint.CacheKey, async cancel =>
                {
                    var engine = await DockerEngine.ConnectAsync(endpoint, cancel).ConfigureAwait(false);
                    var networks = await engine.Client.Networks.ListNetworksAsync(new NetworksListParameters(), cancel).ConfigureAwait(false);
                    return (IReadOnlyList<string>)networks.Select(n => n.Name).Where(n => !string.IsNullOrEmpty(n))
                        .Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToList();
                }, deadline, Volatile.Read(ref _generation));
                if (list != null) foreach (var network in list) yield return network;
            }
        }

        /// <summary>The container runtimes of the engines the command line names (GET /info), marked when the engine's default.</summary>
        public static IEnumerable<(string Name, bool IsDefault)> Runtimes(IDictionary? fakeBoundParameters)
        {
            var deadline = DateTime.UtcNow + Budget;
            foreach (var endpoint in Endpoints(fakeBoundParameters))
            {
                var list = RuntimeLists.Get(endpoint.CacheKey, async cancel =>
                {
                    var engine = await DockerEngine.ConnectAsync(endpoint, cancel).ConfigureAwait(false);
                    var (names, defaultName) = await EngineRuntimes.ListAsync(engine, cancel).ConfigureAwait(false);
                    return (IReadOnlyList<(string, bool)>)names.Select(n => (n, n == defaultName)).ToList();
                }, deadline, Volatile.Read(ref _generation));
                if (list != null) foreach (var runtime in list) yield return runtime;
            }
        }

        /// <summary>The one sandbox the command line names with -Sandbox, -Name or -Id; null when it names none or several.</summary>
        public static Sandbox? NamedSandbox(IDictionary? fakeBoundParameters)
        {
            if (fakeBoundParameters == null) return null;
            if (fakeBoundParameters.Contains("Sandbox"))
            {
                var value = Unwrap(fakeBoundParameters["Sandbox"]);
                if (value is Sandbox sandbox) return sandbox;
                if (value is IEnumerable many && !(value is string))
                {
                    var sandboxes = many.Cast<object?>().Select(Unwrap).OfType<Sandbox>().ToList();
                    return sandboxes.Count == 1 ? sandboxes[0] : null;
                }
                return null;
            }
            IEnumerable<Sandbox> matches;
            if (fakeBoundParameters.Contains("Name") && Unwrap(fakeBoundParameters["Name"]) is string name)
                matches = Sandboxes(fakeBoundParameters).Where(s => string.Equals(s.Name, name.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase));
            else if (fakeBoundParameters.Contains("Id") && Unwrap(fakeBoundParameters["Id"]) is string id && id.Trim('\'', '"').Length > 0)
                matches = Sandboxes(fakeBoundParameters).Where(s => s.Id.StartsWith(id.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase));
            else return null;
            var found = matches.Take(2).ToList();
            return found.Count == 1 ? found[0] : null;
        }

        /// <summary>
        /// The entries of a folder inside the sandbox, folders with a trailing '/'; null when the sandbox did not answer in time.
        /// Any POSIX shell lists them, so every image that can host a sandbox can.
        /// </summary>
        public static IReadOnlyList<string>? FolderEntries(Sandbox sandbox, string folder)
        {
            var endpoint = sandbox.Endpoint ?? EndpointResolver.Default.Resolve(sandbox.DockerHost);
            return FolderListings.Get($"{endpoint.CacheKey}|{sandbox.Id}|{folder}", async cancel =>
            {
                var engine = await DockerEngine.ConnectAsync(endpoint, cancel).ConfigureAwait(false);
                var exec = await engine.Client.Exec.CreateContainerExecAsync(sandbox.Id, new ContainerExecCreateParameters
                {
                    Cmd = new List<string> { "/bin/sh", "-c", ListFolderScript, "sh", folder },
                    AttachStdout = true,
                    AttachStderr = true,
                }, cancel).ConfigureAwait(false);
                using var stream = await engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), cancel).ConfigureAwait(false);
                using (cancel.Register(() => stream.Dispose()))
                {
                    var output = (await stream.ReadOutputToEndAsync(cancel).ConfigureAwait(false)).stdout;
                    return (IReadOnlyList<string>)output.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).ToList();
                }
            }, DateTime.UtcNow + Budget, Volatile.Read(ref _generation));
        }

        const string ListFolderScript =
            "cd -- \"$1\" 2>/dev/null || exit 0; for f in * .[!.]* ..?*; do " +
            "if [ -d \"$f\" ]; then printf '%s/\\n' \"$f\"; elif [ -e \"$f\" ] || [ -L \"$f\" ]; then printf '%s\\n' \"$f\"; fi; done";

        /// <summary>The engines named by -DockerHost on the command line (Get-Sandbox takes several), else the default one.</summary>
        static List<DockerEndpoint> Endpoints(IDictionary? fakeBoundParameters)
        {
            var hosts = new List<string?>();
            if (fakeBoundParameters != null && fakeBoundParameters.Contains("DockerHost"))
            {
                var value = Unwrap(fakeBoundParameters["DockerHost"]);
                if (value is IEnumerable many && !(value is string)) hosts.AddRange(many.Cast<object?>().Select(v => Unwrap(v)?.ToString()));
                else hosts.Add(value?.ToString());
            }
            if (hosts.Count == 0) hosts.Add(null);

            var endpoints = new List<DockerEndpoint>();
            foreach (var host in hosts.Distinct())
            {
                try { endpoints.Add(EndpointResolver.Default.Resolve(host)); }
                catch (Exception) { /* an address that is not one yet: nothing to offer */ }
            }
            return endpoints;
        }

        static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;

        /// <summary>Completion results for the values that start with what was typed, keeping the quote the user opened.</summary>
        public static IEnumerable<CompletionResult> Results(string wordToComplete, IEnumerable<(string Value, string ToolTip)> candidates)
        {
            var word = wordToComplete ?? "";
            var quote = word.Length > 0 && (word[0] == '\'' || word[0] == '"') ? word[0].ToString() : "";
            var typed = word.Trim('\'', '"');
            var pattern = new WildcardPattern(WildcardPattern.ContainsWildcardCharacters(typed) ? typed : WildcardPattern.Escape(typed) + "*", WildcardOptions.IgnoreCase);
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (value, toolTip) in candidates.OrderBy(c => c.Value, StringComparer.OrdinalIgnoreCase))
            {
                if (!pattern.IsMatch(value) || !seen.Add(value)) continue;
                var text = quote.Length > 0 || value.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', ';', '(', ')', '{', '}', ',', '&', '|', '@', '#' }) >= 0
                    ? (quote == "\"" ? $"\"{value.Replace("\"", "`\"")}\"" : $"'{value.Replace("'", "''")}'")
                    : value;
                yield return new CompletionResult(text, value, CompletionResultType.ParameterValue, string.IsNullOrEmpty(toolTip) ? value : toolTip);
            }
        }

        public static string Describe(Sandbox s) =>
            $"{s.Name} ({s.ShortId}) {s.State}, {s.Image}" + (s.ProjectId != null ? $", project {s.ProjectId}" : "") + $" on {s.DockerHost}";
    }
}
