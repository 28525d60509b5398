using System.Management.Automation;
using Sandbox.Hosting;

namespace Sandbox.Commands
{
    [Cmdlet(VerbsCommon.New, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(Sandbox), typeof(Job))]
    public sealed class NewSandboxCommand : NewSandboxCommandBase
    {
        [Parameter]
        public SwitchParameter AsJob { get; set; }

        SandboxJobLauncher? _job;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (AsJob) _job = new SandboxJobLauncher(this);
        }

        protected override void ProcessRecord()
        {
            if (_job != null) { _job.AddPipelineInput(); return; }
            var sandbox = CreateSandbox();
            if (sandbox != null) WriteObject(sandbox);
        }

        protected override void EndProcessing()
        {
            if (_job != null) WriteObject(_job.Start());
        }
    }
}
