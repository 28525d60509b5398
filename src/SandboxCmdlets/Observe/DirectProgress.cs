using System;

namespace Sandbox.Observe
{
    /// <summary>An IProgress that runs its handler on the reporting thread, in order (Progress&lt;T&gt; posts to the thread pool, which may reorder).</summary>
    sealed class DirectProgress<T> : IProgress<T>
    {
        readonly Action<T> _handler;
        public DirectProgress(Action<T> handler) { _handler = handler; }
        public void Report(T value) => _handler(value);
    }
}
