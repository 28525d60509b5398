using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>Makes sure an image is on the engine, pulling it with progress when it is not.</summary>
    public sealed class ImagePuller
    {
        readonly DockerEngine _engine;

        public ImagePuller(DockerEngine engine) => _engine = engine;

        /// <param name="origin">What chose the image; its error then says which setting to change. Null: the user named it.</param>
        public async Task EnsureAsync(string image, IProgress<PullProgress>? progress, CancellationToken cancel, ImageOrigin? origin = null)
        {
            ImageReference.Validate(image);
            var client = _engine.Client;
            try
            {
                await client.Images.InspectImageAsync(image, cancel).ConfigureAwait(false);
                return;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { }
            catch (DockerApiException e)
            {
                throw new SandboxException("InvalidImageReference", SandboxErrorKind.InvalidArgument, $"The engine refused image '{image}': {EngineErrors.Message(e)}", image, null, e);
            }
            catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }

            var (repository, tag) = ImageReference.Split(image);
            string? failure = null;
            var reporter = new Progress<JSONMessage>(m =>
            {
                if (m.Error != null) failure = m.Error.Message;
                progress?.Report(new PullProgress { Image = image, Layer = m.ID, Status = m.Status ?? "", Current = m.Progress?.Current ?? 0, Total = m.Progress?.Total ?? 0 });
            });
            try
            {
                await client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag }, null, reporter, cancel)
                    .WithCancellation(cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) { failure = EngineErrors.Message(e); }
            catch (OperationCanceledException) { throw; }
            catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }

            if (failure == null)
            {
                try { await client.Images.InspectImageAsync(image, cancel).ConfigureAwait(false); return; }
                catch (DockerApiException e) { failure = EngineErrors.Message(e); }
            }
            origin ??= ImageOrigin.Given;
            var what = origin.Description != null ? $"Image '{image}', {origin.Description}," : $"Image '{image}'";
            throw new SandboxException("ImageNotFound", SandboxErrorKind.ObjectNotFound,
                $"{what} is not on {_engine.Endpoint.Host} and could not be pulled: {failure}", image, Advice(failure, origin));
        }

        /// <summary>What to do about an image that could not be pulled for <paramref name="reason"/> (the engine's words).</summary>
        public static string Advice(string reason, ImageOrigin origin)
        {
            var unreachable = IsRegistryUnreachable(reason);
            if (origin.Remedy != null)
                return unreachable ? $"The engine cannot reach the registry (no network, or a DNS or proxy problem). {origin.Remedy}" : origin.Remedy;
            return unreachable
                ? "The engine cannot reach the registry (no network, or a DNS or proxy problem): check the name, connect the engine, or build or load the image on the engine first (docker build, docker load)."
                : "Check the name (docker image ls lists the engine's images), log in to the registry if it is private (docker login), or build or load the image on the engine first.";
        }

        static readonly System.Text.RegularExpressions.Regex Unreachable = new System.Text.RegularExpressions.Regex(
            @"dial tcp|no such host|server misbehaving|connection refused|network is unreachable|no route to host|i/o timeout|" +
            @"TLS handshake timeout|context deadline exceeded|Client\.Timeout|connection reset|temporary failure in name resolution",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);

        /// <summary>The engine never got an answer from the registry: a network or DNS failure, not a wrong name or a login.</summary>
        public static bool IsRegistryUnreachable(string reason) => Unreachable.IsMatch(reason ?? "");
    }
}
