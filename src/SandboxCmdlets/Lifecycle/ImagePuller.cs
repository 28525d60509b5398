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

        public async Task EnsureAsync(string image, IProgress<PullProgress>? progress, CancellationToken cancel)
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
            throw new SandboxException("ImageNotFound", SandboxErrorKind.ObjectNotFound,
                $"Image '{image}' is not on {_engine.Endpoint.Host} and could not be pulled: {failure}", image,
                "Check the name, log in to the registry, or build/import the image on the engine first.");
        }
    }
}
