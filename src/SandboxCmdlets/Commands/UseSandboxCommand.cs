using System.Management.Automation;
using Sandbox.Hosting;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>New-Sandbox, a script block with the sandbox as $_, then Stop-Sandbox whatever happened: the seed's 'with' block.</summary>
    [Cmdlet(VerbsOther.Use, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(object))]
    public sealed class UseSandboxCommand : NewSandboxCommandBase
    {
        [Parameter(Mandatory = true, Position = 0)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        protected override void ProcessRecord()
        {
            var sandbox = CreateSandbox();
            if (sandbox == null) return;
            try
            {
                foreach (var item in SandboxHooks.Invoke(ScriptBlock, sandbox)) WriteObject(item);
            }
            finally
            {
                try
                {
                    RemoveSandbox(sandbox, ConnectFor(sandbox), evenOnCtrlC: true);
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            }
        }
    }
}
