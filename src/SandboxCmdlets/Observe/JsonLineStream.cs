using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Observe
{
    /// <summary>
    /// Reads an engine answer that streams one JSON object a line (stats, events) until it ends or the token fires. The
    /// client library's own readers wait on the connection regardless of the token (over a unix socket or an SSH
    /// channel), so Ctrl+C would hang until the engine's next line; here the token ends the read at once and closes the
    /// stream, which frees the connection.
    /// </summary>
    public static class JsonLineStream
    {
        public static async Task ReadAsync<T>(Func<Task<Stream>> open, Action<T> onItem, CancellationToken cancel) where T : class
        {
            cancel.ThrowIfCancellationRequested();
            var stream = await open().ConfigureAwait(false);
            var stopped = new TaskCompletionSource<bool>();
            // Closing an SSH channel waits for the far end (seconds): it happens off this path, which ends at once.
            using var closeOnCancel = cancel.Register(() => { stopped.TrySetResult(true); Task.Run(stream.Dispose); });
            var reader = new StreamReader(stream, new UTF8Encoding(false));
            try
            {
                while (true)
                {
                    var read = reader.ReadLineAsync();
                    if (await Task.WhenAny(read, stopped.Task).ConfigureAwait(false) != read)
                    {
                        _ = read.ContinueWith(t => t.Exception, TaskScheduler.Default);
                        throw new OperationCanceledException(cancel);
                    }
                    string? line;
                    try { line = await read.ConfigureAwait(false); }
                    catch (Exception e) when (cancel.IsCancellationRequested && (e is ObjectDisposedException || e is IOException || e is OperationCanceledException))
                    {
                        throw new OperationCanceledException(cancel);
                    }
                    if (line == null) { cancel.ThrowIfCancellationRequested(); return; }
                    if (line.Trim().Length == 0) continue;
                    var item = Parse<T>(line);
                    if (item != null) onItem(item);
                }
            }
            finally
            {
                if (!cancel.IsCancellationRequested) stream.Dispose();
            }
        }

        public static T? Parse<T>(string line) where T : class => System.Text.Json.JsonSerializer.Deserialize<T>(line);
    }
}
