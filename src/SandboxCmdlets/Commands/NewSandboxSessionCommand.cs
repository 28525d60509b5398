using System.Management.Automation;
using Sandbox.Lifecycle;
using Sandbox.Sessions;

namespace Sandbox.Commands
{
    /// <summary>Opens a shell session in a sandbox: a /bin/sh kept alive for the commands Invoke-SandboxCommand -Session runs.</summary>
    [Cmdlet(VerbsCommon.New, "SandboxSession")]
    [OutputType(typeof(SandboxSession))]
    public sealed class NewSandboxSessionCommand : SandboxCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public Sandbox[] Sandbox { get; set; } = null!;

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ValidatePattern(@"^[^\s*?\[\]]+$")]
        public string? Name { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var sandbox in Sandbox)
            {
                try
                {
                    var manager = ConnectFor(sandbox);
                    WriteObject(Run(c => SandboxSessions.OpenAsync(sandbox, WorkEngine(sandbox, manager), Name, c)));
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            }
        }
    }
}
