namespace Sandbox.Lifecycle
{
    /// <summary>
    /// Where a sandbox's image came from. An image the user did not name that cannot be pulled is explained by the setting
    /// that chose it, which is what the user can change.
    /// </summary>
    public sealed class ImageOrigin
    {
        /// <summary>What chose the image, for the error's first sentence; null when the user named it.</summary>
        public string? Description { get; }
        /// <summary>What to do instead; null when the user named the image.</summary>
        public string? Remedy { get; }

        ImageOrigin(string? description, string? remedy)
        {
            Description = description;
            Remedy = remedy;
        }

        /// <summary>Named by the user: -Image, -BaseImage, a Dockerfile.</summary>
        public static readonly ImageOrigin Given = new ImageOrigin(null, null);

        public static readonly ImageOrigin ModuleDefault = new ImageOrigin(
            "the module's default image (no -Image was given and $env:SANDBOX_IMAGE is not set)",
            "Pass -Image with an image the engine has (docker image ls) or can pull, or set $env:SANDBOX_IMAGE to one to make it the default.");

        public static readonly ImageOrigin EnvironmentVariable = new ImageOrigin(
            "the image $env:SANDBOX_IMAGE names (no -Image was given)",
            "Set $env:SANDBOX_IMAGE to an image the engine has (docker image ls) or can pull, or pass -Image.");

        /// <summary>The image a language's code runs in when no -Image is given (Invoke-SandboxCode).</summary>
        public static ImageOrigin Language(string language) => new ImageOrigin(
            $"the default image of language '{language}' (no -Image was given)",
            $"Pass -Image with an image the engine has (docker image ls) that runs {language}, run the code in a sandbox you made with -Sandbox, " +
            $"or change the language's image: Register-SandboxLanguage -Name {language} -Image <image>.");

        /// <summary>The image New-Sandbox -Build starts a language's project from when no -BaseImage is given.</summary>
        public static ImageOrigin LanguageBuild(string language) => new ImageOrigin(
            $"the build image of language '{language}' (no -BaseImage was given)",
            $"Pass -BaseImage with an image the engine has (docker image ls) that builds {language}, " +
            $"or change the language's build image: Register-SandboxLanguage -Name {language} -BuildImage <image>.");
    }
}
