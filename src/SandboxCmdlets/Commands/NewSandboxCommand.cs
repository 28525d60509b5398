using System.Management.Automation;

namespace Sandbox.Commands
{
    [Cmdlet(VerbsCommon.New, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(Sandbox))]
    public sealed class NewSandboxCommand : NewSandboxCommandBase
    {
        protected override void ProcessRecord()
        {
            var sandbox = CreateSandbox();
            if (sandbox != null) WriteObject(sandbox);
        }
    }
}
