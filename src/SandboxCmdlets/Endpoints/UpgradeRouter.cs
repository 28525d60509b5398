#if NET
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Endpoints
{
    /// <summary>
    /// Requests that upgrade the connection (an exec's attach) go through the library's own handler, whose hijacked stream
    /// can half-close its socket or channel: the end of a command's stdin. The pool's streams cannot, and an upgraded
    /// connection never goes back to the pool anyway. Every other request reuses a pooled keep-alive connection.
    /// </summary>
    sealed class UpgradeRouter : HttpMessageHandler
    {
        readonly HttpMessageInvoker _pooled;
        readonly HttpMessageInvoker _hijackable;

        public UpgradeRouter(HttpMessageHandler pooled, HttpMessageHandler hijackable)
        {
            _pooled = new HttpMessageInvoker(pooled, disposeHandler: true);
            _hijackable = new HttpMessageInvoker(hijackable, disposeHandler: true);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            (request.Headers.Upgrade.Count > 0 ? _hijackable : _pooled).SendAsync(request, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing) { _pooled.Dispose(); _hijackable.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
#endif
