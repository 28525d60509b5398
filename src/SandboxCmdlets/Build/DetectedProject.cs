using Sandbox.Languages;

namespace Sandbox.Build
{
    /// <summary>What -Build found in a code folder: its own Dockerfile, or the language to generate one for.</summary>
    public sealed class DetectedProject
    {
        public string Folder { get; set; } = "";
        /// <summary>The name of the folder's own Dockerfile (built as is); null when one is generated.</summary>
        public string? DockerfileName { get; set; }
        /// <summary>The language a Dockerfile is generated for; null with the folder's own Dockerfile.</summary>
        public LanguageDefinition? Language { get; set; }
        /// <summary>The top-level file that decided the language; null for the shell fallback.</summary>
        public string? MarkerFile { get; set; }

        public string Description => DockerfileName != null
            ? $"its own {DockerfileName}"
            : MarkerFile != null ? $"a {Language!.Name} project ({MarkerFile})" : $"no known project files: {Language!.Name}";
    }
}
