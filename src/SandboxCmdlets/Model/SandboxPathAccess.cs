namespace Sandbox
{
    /// <summary>How New-Sandbox gives the sandbox the folder of -Path (or -ProjectId) at /workspace.</summary>
    public enum SandboxPathAccess
    {
        /// <summary>Bind-mounted read-write: changes inside are changes to the folder (a remote engine copies instead).</summary>
        ReadWrite,
        /// <summary>Bind-mounted read-only: the sandbox reads the folder and cannot change it (a remote engine copies instead).</summary>
        ReadOnly,
        /// <summary>Copied in: the sandbox works on its own copy and the folder stays untouched.</summary>
        Copy,
    }
}
