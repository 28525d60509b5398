using System.Collections.Generic;

namespace Sandbox.Lifecycle
{
    /// <summary>A set of ids that forgets the oldest once it holds <c>capacity</c>, for per-process memory that must stay bounded.</summary>
    public sealed class BoundedIdSet
    {
        readonly int _capacity;
        readonly HashSet<string> _ids = new HashSet<string>();
        readonly Queue<string> _order = new Queue<string>();

        public BoundedIdSet(int capacity) => _capacity = capacity;

        /// <summary>False when the id is already there.</summary>
        public bool Add(string id)
        {
            lock (_ids)
            {
                if (!_ids.Add(id)) return false;
                _order.Enqueue(id);
                while (_order.Count > _capacity) _ids.Remove(_order.Dequeue());
                return true;
            }
        }

        public bool Contains(string id)
        {
            lock (_ids) return _ids.Contains(id);
        }

        public int Count { get { lock (_ids) return _ids.Count; } }

        public void Clear()
        {
            lock (_ids) { _ids.Clear(); _order.Clear(); }
        }
    }
}
