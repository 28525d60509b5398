namespace Sandbox.Sessions
{
    /// <summary>How one piece of code in a kernel ended.</summary>
    public enum KernelStatus
    {
        Completed,
        Raised,
        Interrupted,
    }
}
