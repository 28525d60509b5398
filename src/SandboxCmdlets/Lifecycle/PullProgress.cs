namespace Sandbox.Lifecycle
{
    /// <summary>One step of an image pull, for progress bars.</summary>
    public sealed class PullProgress
    {
        public string Image { get; set; } = "";
        public string? Layer { get; set; }
        public string Status { get; set; } = "";
        public long Current { get; set; }
        public long Total { get; set; }
    }
}
