using System;
using System.IO;
using System.Management.Automation;
using Sandbox.Build;
using Sandbox.Completion;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>-Build: the sandbox's image is built from the code folder, which is then inside the image instead of mounted.</summary>
    public abstract partial class NewSandboxCommandBase
    {
        [Parameter]
        public SwitchParameter Build { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageCompleter))]
        public string? BaseImage { get; set; }

        string? _buildFolder;

        string ImageShown(SandboxSpec spec) => _buildFolder != null ? $"an image built from {_buildFolder}" : $"image {spec.Image}";

        /// <summary>Checks the -Build parameters and takes the code folder out of the spec: it goes into the image, not into a mount.</summary>
        void TakeBuildFolder(SandboxSpec spec)
        {
            if (!Build)
                throw new SandboxException("BaseImageWithoutBuild", SandboxErrorKind.InvalidArgument,
                    "-BaseImage is the image -Build starts from; add -Build (with -Path or -ProjectId), or use -Image to run a ready image.", BaseImage);
            if (Image != null)
                throw new SandboxException("BuildWithImage", SandboxErrorKind.InvalidArgument,
                    "-Build makes the sandbox's image from the code folder, so it cannot also run -Image. Leave out -Image, or use -BaseImage to choose the image the build starts from.", Image);
            if (spec.CodePath == null)
                throw new SandboxException("BuildPathRequired", SandboxErrorKind.InvalidArgument,
                    "-Build needs the folder to build: give -Path (or -ProjectId, whose folder is ./projects/<id>).", null);
            if (CopyPath || PathAccessGiven)
                throw new SandboxException("BuildWithCopyPath", SandboxErrorKind.InvalidArgument,
                    $"With -Build the code is already in the image at /workspace; leave out {(CopyPath ? "-CopyPath" : "-PathAccess")}.", Path);
            if (BaseImage != null) ImageReference.Validate(BaseImage.Trim());
            _buildFolder = spec.CodePath;
            spec.BuiltFrom = spec.CodePath;
            spec.CodePath = null;
        }

        /// <summary>Builds (or finds already built) the image of the code folder and makes it the sandbox's image.</summary>
        bool BuildImage(SandboxSpec spec, ISandboxBackend manager)
        {
            var folder = _buildFolder!;
            BuildContext context;
            try
            {
                var project = ProjectDetector.Detect(folder);
                if (project.DockerfileName != null && BaseImage != null)
                    throw new SandboxException("BaseImageWithDockerfile", SandboxErrorKind.InvalidArgument,
                        $"'{folder}' has its own {project.DockerfileName}, which names its base image itself; leave out -BaseImage or change the FROM line.", BaseImage);
                context = BuildContext.Create(project, BaseImage);
                WriteVerbose(context.BaseImage != null
                    ? $"Building '{folder}': {project.Description}; base image {context.BaseImage}; {context.Entries.Count} context entries."
                    : $"Building '{folder}' with {project.Description}; {context.Entries.Count} context entries.");
            }
            catch (FormatException e)
            {
                WriteSandboxError(new SandboxException("InvalidDockerignore", SandboxErrorKind.InvalidData, $"{System.IO.Path.Combine(folder, DockerIgnore.FileName)}: {e.Message}", folder));
                return false;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                WriteSandboxError(new SandboxException("BuildContextUnreadable", SandboxErrorKind.PermissionDenied, $"Cannot read the code folder '{folder}': {e.Message}", folder));
                return false;
            }
            catch (SandboxException e)
            {
                WriteSandboxError(e);
                return false;
            }

            var view = new BuildProgressView(this);
            try
            {
                var result = Run(c => manager.BuildImageAsync(context, PipelineProgress<BuildProgress>(view.Show), c));
                WriteVerbose(result.CacheHit
                    ? $"Image {result.Tag} already exists for these inputs (cache hit); not building it again."
                    : $"Built image {result.Tag} in {result.Elapsed.TotalSeconds:0.0} s.");
                spec.Image = result.Tag;
                return true;
            }
            catch (SandboxException e)
            {
                WriteSandboxError(e);
                return false;
            }
            finally { view.Complete(); }
        }

        sealed class BuildProgressView
        {
            const int ProgressId = 3;
            readonly Cmdlet _cmdlet;
            string _activity = "Building image";
            bool _shown;

            public BuildProgressView(Cmdlet cmdlet) => _cmdlet = cmdlet;

            public void Show(BuildProgress p)
            {
                _activity = $"Building image {p.Tag}";
                if (p.Line != null) _cmdlet.WriteVerbose(p.Line);
                var record = p.Line == null
                    ? new ProgressRecord(ProgressId, _activity, $"Sending the build context: {Units.FormatBytes(p.ContextBytesSent)} of {Units.FormatBytes(p.ContextBytesTotal)}")
                    {
                        PercentComplete = p.ContextBytesTotal > 0 ? (int)Math.Min(100, p.ContextBytesSent * 100 / p.ContextBytesTotal) : -1,
                    }
                    : new ProgressRecord(ProgressId, _activity, p.Step > 0 ? $"Step {p.Step}/{p.StepCount}: {p.Instruction}" : "Starting")
                    {
                        PercentComplete = p.StepCount > 0 ? (p.Step - 1) * 100 / p.StepCount : -1,
                    };
                _cmdlet.WriteProgress(record);
                _shown = true;
            }

            public void Complete()
            {
                if (_shown) _cmdlet.WriteProgress(new ProgressRecord(ProgressId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }
    }
}
