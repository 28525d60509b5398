using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    [Cmdlet(VerbsCommon.Get, "Sandbox", DefaultParameterSetName = "Name")]
    [OutputType(typeof(Sandbox))]
    public sealed class GetSandboxCommand : SandboxCmdletBase
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SandboxNameCompleter))]
        public string[]? Name { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SandboxIdCompleter))]
        public string[]? Id { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SandboxProjectIdCompleter))]
        public string[]? ProjectId { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? DockerHost { get; set; }

        /// <summary>Swarm clusters to list, by their managers' addresses (beside any -DockerHost engines).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Cluster { get; set; }

        [Parameter]
        [ValidateNotNull]
        public Hashtable? NodeEndpoint { get; set; }

        [Parameter]
        public SwitchParameter IncludePooled { get; set; }

        protected override void ProcessRecord()
        {
            var all = new List<Sandbox>();
            _anEngineFailed = false;
            var places = new List<(string? Host, string? Cluster)>();
            if (DockerHost != null) places.AddRange(DockerHost.Select(h => ((string?)h, (string?)null)));
            if (Cluster != null) places.AddRange(Cluster.Select(c => ((string?)null, (string?)c)));
            if (places.Count == 0) places.Add((null, null));
            foreach (var (host, cluster) in places)
            {
                try
                {
                    var manager = Connect(ResolvePlace(host, cluster, cluster != null || DockerHost == null ? NodeEndpoint : null));
                    all.AddRange(Run(c => manager.ListAsync(c)));
                }
                catch (SandboxException e) { WriteSandboxError(e, host ?? cluster); _anEngineFailed = true; }
            }

            IEnumerable<Sandbox> result = IncludePooled ? all : all.Where(s => !s.InPool);
            if (Name != null) result = Filter(result, Name, "name", (s, p) => p.IsMatch(s.Name), allowWildcards: true);
            if (Id != null) result = Filter(result, Id, "id", (s, p) => s.Id.StartsWith(p.Text, StringComparison.OrdinalIgnoreCase), allowWildcards: false);
            if (ProjectId != null) result = Filter(result, ProjectId, "project id", (s, p) => s.ProjectId != null && p.IsMatch(s.ProjectId), allowWildcards: true);
            foreach (var sandbox in result) WriteObject(sandbox);
        }

        bool _anEngineFailed;

        sealed class Pattern
        {
            public string Text = "";
            public WildcardPattern Wildcard = null!;
            public bool IsMatch(string value) => Wildcard.IsMatch(value);
        }

        List<Sandbox> Filter(IEnumerable<Sandbox> input, string[] values, string what, Func<Sandbox, Pattern, bool> match, bool allowWildcards)
        {
            var list = input.ToList();
            var kept = new List<Sandbox>();
            foreach (var value in values)
            {
                var pattern = new Pattern { Text = value.Trim(), Wildcard = new WildcardPattern(allowWildcards ? value.Trim() : WildcardPattern.Escape(value.Trim()), WildcardOptions.IgnoreCase) };
                if (pattern.Text.Length == 0) { WriteError(NotFound(what, value)); continue; }
                List<Sandbox> matches;
                try { matches = list.Where(s => match(s, pattern)).ToList(); }
                catch (WildcardPatternException e) { WriteError(InvalidWildcard(value, e)); continue; }
                // An engine that could not be asked may hold it: that engine's error already said so.
                if (matches.Count == 0 && !_anEngineFailed && !(allowWildcards && WildcardPattern.ContainsWildcardCharacters(value))) WriteError(NotFound(what, value));
                kept.AddRange(matches);
            }
            return kept.GroupBy(s => s.DockerHost + "|" + s.Id).Select(g => g.First()).ToList();
        }
    }
}
