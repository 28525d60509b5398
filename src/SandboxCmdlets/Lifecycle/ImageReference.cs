using System.Text.RegularExpressions;

namespace Sandbox.Lifecycle
{
    /// <summary>What an image reference may look like, and its repository and tag.</summary>
    public static class ImageReference
    {
        static readonly Regex ReferencePattern = new Regex(@"^(?:(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)(?::\d+)?/|[a-zA-Z0-9-]+:\d+/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})??\z");

        public static void Validate(string image)
        {
            if (string.IsNullOrWhiteSpace(image) || !ReferencePattern.IsMatch(image))
                throw new SandboxException("InvalidImageReference", SandboxErrorKind.InvalidArgument,
                    $"'{image}' is not a valid image reference. Use a name such as python:3.12-slim or registry.example.com/team/tool:1.0 (lower case).", image);
        }

        public static (string Repository, string Tag) Split(string image)
        {
            var at = image.IndexOf('@');
            if (at >= 0) return (image.Substring(0, at), image.Substring(at + 1));
            var slash = image.LastIndexOf('/');
            var colon = image.LastIndexOf(':');
            return colon > slash ? (image.Substring(0, colon), image.Substring(colon + 1)) : (image, "latest");
        }
    }
}
