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
        static int _generation;

        /// <summary>Called when this process creates or removes sandboxes, so that the next Tab asks the engine again.</summary>
        public static void Invalidate() => Interlocked.Increment(ref _generation);

        /// <summary>For module removal: the cached lists go, with the sandbox objects they hold.</summary>
        public static void Forget()
        {
            SandboxLists.Clear();
            ImageLists.Clear();
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
