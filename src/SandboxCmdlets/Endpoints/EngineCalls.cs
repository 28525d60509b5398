using System;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Endpoints
{
    public static class EngineCalls
    {
        /// <summary>
        /// Awaits an engine call whose streamed answer is read without regard to its token (pulls, builds): the call is
        /// raced against the token, so that Ctrl+C returns at once; the abandoned call's failure is observed and dropped.
        /// </summary>
        public static async Task WithCancellation(this Task call, CancellationToken cancel)
        {
            var stopped = new TaskCompletionSource<bool>();
            using (cancel.Register(() => stopped.TrySetResult(true)))
            {
                if (await Task.WhenAny(call, stopped.Task).ConfigureAwait(false) != call)
                {
                    _ = call.ContinueWith(t => t.Exception, TaskScheduler.Default);
                    throw new OperationCanceledException(cancel);
                }
            }
            await call.ConfigureAwait(false);
        }
    }
}
