using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Completion
{
    /// <summary>
    /// Answers from the engine for tab completion, without ever making the prompt wait: a query runs in the background
    /// with its own time limit; the caller waits for it only a short while and otherwise gets the last answer (or none).
    /// One query per key at a time, so pressing Tab at an unreachable engine never piles up connections.
    /// </summary>
    sealed class CompletionCache<T> where T : class
    {
        /// <summary>An answer younger than this is served without asking the engine again.</summary>
        static readonly TimeSpan Fresh = TimeSpan.FromSeconds(2);
        /// <summary>An older answer is still served when the engine is slow to answer, up to this age.</summary>
        static readonly TimeSpan Stale = TimeSpan.FromMinutes(1);
        /// <summary>A background query that takes longer than this is given up.</summary>
        static readonly TimeSpan QueryLimit = TimeSpan.FromSeconds(15);

        sealed class Entry
        {
            public T? Value;
            public DateTime At;
            public int Generation;
            public Task<T>? Query;
        }

        readonly ConcurrentDictionary<string, Entry> _entries = new ConcurrentDictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The answer for <paramref name="key"/>, waiting for a query at most until <paramref name="deadline"/>; null when there is none yet.</summary>
        public void Clear() => _entries.Clear();

        public T? Get(string key, Func<CancellationToken, Task<T>> query, DateTime deadline, int generation)
        {
            var entry = _entries.GetOrAdd(key, _ => new Entry());
            Task<T> running;
            lock (entry)
            {
                if (entry.Value != null && entry.Generation == generation && DateTime.UtcNow - entry.At < Fresh) return entry.Value;
                running = entry.Query ??= Start(entry, query, generation);
            }

            var wait = deadline - DateTime.UtcNow;
            if (wait > TimeSpan.Zero) ((IAsyncResult)running).AsyncWaitHandle.WaitOne(wait);
            if (running.Status == TaskStatus.RanToCompletion) return running.Result;

            lock (entry) return entry.Value != null && DateTime.UtcNow - entry.At < Stale ? entry.Value : null;
        }

        static Task<T> Start(Entry entry, Func<CancellationToken, Task<T>> query, int generation)
        {
            var limit = new CancellationTokenSource(QueryLimit);
            var task = Task.Run(() => query(limit.Token), limit.Token);
            task.ContinueWith(t =>
            {
                lock (entry)
                {
                    if (t.Status == TaskStatus.RanToCompletion)
                    {
                        entry.Value = t.Result;
                        entry.At = DateTime.UtcNow;
                        entry.Generation = generation;
                    }
                    entry.Query = null;
                }
                limit.Dispose();
                _ = t.Exception;   // observed: a failed query only means no completions
            }, TaskScheduler.Default);
            return task;
        }
    }
}
