namespace Sandbox.Exec
{
    /// <summary>The $LASTEXITCODE of a command that did not end by itself, as a shell would report it.</summary>
    public static class ExitCodes
    {
        /// <summary>-TimeoutSec ran out (as coreutils' timeout says).</summary>
        public const int TimedOut = 124;

        /// <summary>Ctrl+C, Stop-Job or PowerShell.Stop(): 128 + SIGINT.</summary>
        public const int Stopped = 130;

        /// <summary>The pipeline ended early downstream (Select-Object -First): 128 + SIGPIPE, as for `yes | head -1`.</summary>
        public const int ReaderGone = 141;
    }
}
