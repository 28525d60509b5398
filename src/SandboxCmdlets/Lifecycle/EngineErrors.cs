using System.Linq;
using System.Text.RegularExpressions;
using Docker.DotNet;

namespace Sandbox.Lifecycle
{
    /// <summary>Turns what the engine answered into the module's errors.</summary>
    public static class EngineErrors
    {
        /// <summary>The engine's own message from an error body, else the body, else the exception's message.</summary>
        public static string Message(DockerApiException e)
        {
            var body = e.ResponseBody ?? "";
            var match = Regex.Match(body, "\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
            return match.Success ? Regex.Unescape(match.Groups[1].Value) : (body.Length > 0 ? body.Trim() : e.Message);
        }

        /// <summary>Why the engine would not create or start a sandbox, as an error users can act on.</summary>
        public static SandboxException CreateFailure(DockerApiException e, SandboxSpec spec, string name, string host)
        {
            var message = Message(e);
            if (Regex.IsMatch(message, "port is already allocated|address already in use", RegexOptions.IgnoreCase))
                return new SandboxException("PortAlreadyAllocated", SandboxErrorKind.ResourceUnavailable,
                    $"A host port asked for by '{name}' is already in use: {message}", string.Join(", ", spec.Ports.Select(p => p.ToString())),
                    "Pick another host port, or 0 to let the engine choose a free one.", e);
            if (Regex.IsMatch(message, "storage-opt|storage_opt|quota", RegexOptions.IgnoreCase))
                return new SandboxException("InvalidLimit", SandboxErrorKind.InvalidArgument,
                    $"The engine refused storage_opt for '{name}': {message}", "storage_opt", "storage_opt needs the overlay2 driver on XFS mounted with pquota; remove it elsewhere.", e);
            if (Regex.IsMatch(message, "network .* not found", RegexOptions.IgnoreCase))
                return new SandboxException("NetworkNotFound", SandboxErrorKind.ObjectNotFound,
                    $"Network '{spec.NetworkMode}' does not exist on {host}: {message}", spec.NetworkMode, "Use bridge, none, host or a network from 'docker network ls'.", e);
            if (Regex.IsMatch(message, "unable to find (user|group)", RegexOptions.IgnoreCase))
                return new SandboxException("UserNotFound", SandboxErrorKind.ObjectNotFound,
                    $"Image '{spec.Image}' has no user '{spec.User}': {message}", spec.User, "Use a uid (such as 1000) or a user that exists in the image.", e);
            if (Regex.IsMatch(message, "executable file not found|no such file or directory", RegexOptions.IgnoreCase))
                return new SandboxException("ImageNotSupported", SandboxErrorKind.InvalidOperation,
                    $"Image '{spec.Image}' cannot host a sandbox: {message}", spec.Image, "The image needs /bin/sh and date (any Linux distribution image or busybox has them); bash or busybox makes its deadline proof against the code inside.", e);
            if ((int)e.StatusCode == 400)
                return new SandboxException("InvalidSandboxSettings", SandboxErrorKind.InvalidArgument,
                    $"The engine refused the settings for '{name}': {message}", name, null, e);
            return new SandboxException("SandboxCreateFailed", SandboxErrorKind.NotSpecified, $"Could not start sandbox '{name}': {message}", name, null, e);
        }
    }
}
