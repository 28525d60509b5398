using System;
using System.Collections.Generic;

namespace Sandbox.Exec
{
    /// <summary>The last few lines of a command's stderr, each cut to a readable length: what the error of a failed command quotes.</summary>
    public sealed class StandardErrorTail
    {
        public const int DefaultLines = 10;
        public const int MaxLineChars = 500;

        readonly Queue<string> _lines = new Queue<string>();
        readonly int _capacity;

        public StandardErrorTail(int capacity = DefaultLines) => _capacity = Math.Max(1, capacity);

        public void Add(string line)
        {
            if (line.Length > MaxLineChars) line = line.Substring(0, MaxLineChars) + "...";
            lock (_lines)
            {
                _lines.Enqueue(line);
                while (_lines.Count > _capacity) _lines.Dequeue();
            }
        }

        public IReadOnlyList<string> Lines()
        {
            lock (_lines) return _lines.ToArray();
        }
    }
}
