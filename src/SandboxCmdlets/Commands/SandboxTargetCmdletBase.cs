using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>The ways to name the sandbox a cmdlet acts on: an object from the pipeline, or its id, name or project.</summary>
    public abstract class SandboxTargetCmdletBase : SandboxCmdletBase
    {
        protected const string BySandbox = "Sandbox";
        protected const string ById = "Id";
        protected const string ByName = "Name";
        protected const string ByProject = "ProjectId";

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = BySandbox)]
        [ValidateNotNull]
        [SessionToSandbox]
        public Sandbox[] Sandbox { get; set; } = null!;

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SandboxIdCompleter))]
        public string[] Id { get; set; } = null!;

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SandboxNameCompleter))]
        public string[] Name { get; set; } = null!;

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByProject)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SandboxProjectIdCompleter))]
        public string[] ProjectId { get; set; } = null!;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DockerHost { get; set; }

        /// <summary>With -Id, -Name or -ProjectId (or -All, -Expired): look on this swarm cluster, through its manager.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Cluster { get; set; }

        [Parameter]
        [ValidateNotNull]
        public Hashtable? NodeEndpoint { get; set; }

        /// <summary>Whether a SandboxSession piped in (it arrives as its sandbox, see <see cref="SessionToSandboxAttribute"/>) is welcome.</summary>
        private protected virtual bool AcceptsSessions => false;

        /// <summary>The sandboxes this call names, each with the manager of its engine; writes SandboxNotFound for literal misses.</summary>
        protected List<(Sandbox Sandbox, ISandboxBackend Backend)> ResolveTargets()
        {
            var found = new List<(Sandbox, ISandboxBackend)>();
            if (ParameterSetName == BySandbox)
            {
                if (!AcceptsSessions && Sandbox.FirstOrDefault(s => s.ViaSession != null) is { } viaSession)
                    throw new SandboxException("SessionNotAccepted", SandboxErrorKind.InvalidArgument,
                        $"{MyInvocation.MyCommand.Name} takes sandboxes, but session '{viaSession.ViaSession!.Name}' came through the pipeline. Pipe the sandbox itself (Get-Sandbox -Id {viaSession.ShortId}).", viaSession.ViaSession.Name);
                foreach (var sandbox in Sandbox)
                    found.Add((sandbox, DockerHost != null || Cluster != null ? Connect(ResolvePlace(DockerHost, Cluster, NodeEndpoint)) : ConnectFor(sandbox)));
                return found;
            }

            var manager = Connect(ResolvePlace(DockerHost, Cluster, NodeEndpoint));
            switch (ParameterSetName)
            {
                case ById:
                    foreach (var id in Id)
                    {
                        if (id.Trim().Length == 0) { WriteError(NotFound("id", id)); continue; }
                        var sandbox = Run(c => manager.FindAsync(id.Trim(), c));
                        if (sandbox == null) WriteError(NotFound("id", id));
                        else found.Add((sandbox, manager));
                    }
                    break;
                case ByName:
                    var all = Run(c => manager.ListAsync(c));
                    foreach (var name in Name)
                    {
                        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                        List<Sandbox> matches;
                        try { matches = all.Where(s => pattern.IsMatch(s.Name)).ToList(); }
                        catch (WildcardPatternException e) { WriteError(InvalidWildcard(name, e)); continue; }
                        if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name)) WriteError(NotFound("name", name));
                        found.AddRange(matches.Select(s => (s, manager)));
                    }
                    break;
                case ByProject:
                    foreach (var project in ProjectId)
                    {
                        var matches = Run(c => manager.ListAsync(c, project));
                        if (matches.Count == 0) WriteError(NotFound("project id", project));
                        found.AddRange(matches.Select(s => (s, manager)));
                    }
                    break;
            }
            return found.GroupBy(t => t.Item1.Id).Select(g => g.First()).ToList();
        }
    }
}
