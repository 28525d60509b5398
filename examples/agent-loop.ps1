<#
.SYNOPSIS
    An agent-style loop: many small commands in one shell session, each answered in about a millisecond.

.DESCRIPTION
    An AI agent or an ops script works in small steps: look around, change a file, check, repeat. Each step as its own
    engine exec costs 40-50 ms and forgets the working directory and variables; a shell session (New-SandboxSession)
    keeps one /bin/sh alive in the sandbox, so each step costs about a millisecond and the shell keeps its state.
    This example plays a tiny agent that fixes a failing "test" in a project: it explores, edits with sed, re-runs the
    check until it passes, then runs 500 quick commands and reports how long they took. It also shows a step that
    runs too long (stopped by -TimeoutSec, the session goes on) and a step that fails (its exit code decides the next
    step). The sandbox, and with it the session, is stopped in `finally`.

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/agent-loop.ps1
        dotnet tool run pwsh examples/agent-loop.ps1 -DockerHost ssh://me@build01.example.com   # a remote engine
    Any image with /bin/sh works; by default it is $env:SANDBOX_IMAGE, else sandbox-local/busybox:latest.
#>
param(
    [string] $Image = $(if ($env:SANDBOX_IMAGE) { $env:SANDBOX_IMAGE } else { 'sandbox-local/busybox:latest' }),
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
if (-not (Get-Module Sandbox)) {
    $built = Get-ChildItem "$PSScriptRoot/../output/Sandbox/*/Sandbox.psd1" -ErrorAction Ignore |
        Sort-Object { [version]$_.Directory.Name } | Select-Object -Last 1
    Import-Module $(if ($env:SANDBOX_MODULE_PATH) { $env:SANDBOX_MODULE_PATH } elseif ($built) { $built.FullName } else { 'Sandbox' })
}
$engine = @{}
if ($DockerHost) { $engine.DockerHost = $DockerHost }

function Show([string] $Text) { Write-Host "`n>>> $Text" -ForegroundColor Green }

$sandbox = $null
try {
    Show "New-Sandbox -Image $Image, then New-SandboxSession"
    $sandbox = New-Sandbox @engine -Image $Image -Timeout 120 -Name "example-agent-loop-$PID"
    $session = $sandbox | New-SandboxSession -Name agent
    "session $($session.Name) in $($session.SandboxName): $($session.State)"

    # The "agent": each step is a command; the shell remembers where it is and what it set.
    function Step([string] $Command) {
        Write-Host "agent> $Command" -ForegroundColor DarkGray
        Invoke-SandboxCommand -Session $session $Command
    }

    Show '1. Set up a project and move into it (cd and export stay for the next steps)'
    Step 'mkdir -p /tmp/project && cd /tmp/project && export CHECK_TARGET=42'
    Step 'printf "answer=41\n" > settings.conf; printf "#!/bin/sh\n. ./settings.conf\n[ \"\$answer\" = \"\$CHECK_TARGET\" ] && echo PASS || { echo \"FAIL: answer is \$answer, want \$CHECK_TARGET\" >&2; exit 1; }\n" > check.sh; chmod +x check.sh'
    Step 'pwd; ls'

    Show '2. Loop: run the check, read its exit code, fix, until it passes'
    foreach ($attempt in 1..3) {
        Step './check.sh' 2>&1 | ForEach-Object { "  $_" }
        if ($LASTEXITCODE -eq 0) { "passed on attempt $attempt"; break }
        "attempt $attempt failed with exit code $LASTEXITCODE; editing settings.conf"
        Step 'sed -i "s/answer=.*/answer=$CHECK_TARGET/" settings.conf && cat settings.conf'
    }

    Show '3. A step that hangs is stopped by -TimeoutSec; the session goes on'
    Invoke-SandboxCommand -Session $session 'sleep 30' -TimeoutSec 1 -ErrorAction SilentlyContinue -ErrorVariable slow
    "stopped: $($slow[0].FullyQualifiedErrorId -replace ',.*'), exit code $LASTEXITCODE"
    Step 'echo "still in $(pwd) with CHECK_TARGET=$CHECK_TARGET"'

    Show '4. Five hundred quick steps'
    $clock = [Diagnostics.Stopwatch]::StartNew()
    foreach ($i in 1..500) { $null = Invoke-SandboxCommand -Session $session "echo $i >> steps.log" }
    $clock.Stop()
    $count = Invoke-SandboxCommand -Session $session 'wc -l < steps.log'
    "500 steps in {0:N0} ms ({1:N2} ms each); steps.log has {2} lines" -f $clock.Elapsed.TotalMilliseconds, ($clock.Elapsed.TotalMilliseconds / 500), $count.Trim()

    Show 'Get-SandboxSession'
    Get-SandboxSession -Sandbox $sandbox | Format-Table | Out-Host
}
finally {
    if ($sandbox) {
        Show 'Stop-Sandbox (closes the session)'
        $sandbox | Stop-Sandbox
        "session state after Stop-Sandbox: $($session.State)"
        Write-Host "Removed $($sandbox.Name)."
    }
}
