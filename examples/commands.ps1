<#
.SYNOPSIS
    Many commands in one sandbox: files, scripts, exit codes, results, environment, timeouts, copies.

.DESCRIPTION
    Starts one sandbox with a local folder (holding script.sh) at /workspace and runs command after command
    in it, as the seed utility's repeated exec() calls did: make a folder and a file, read the file back into
    a PowerShell variable, run the script, then what PowerShell adds: exit codes in $LASTEXITCODE, a result
    object with -PassThru, standard error kept apart, a program run without a shell, environment, working
    directory and user per command, a command stopped by -TimeoutSec, commands as background jobs, and files
    copied in and out with Copy-SandboxItem. The sandbox is stopped in `finally`.

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/commands.ps1
        dotnet tool run pwsh examples/commands.ps1 -DockerHost ssh://me@build01.example.com   # a remote engine
    Any image with a POSIX shell works; by default it is $env:SANDBOX_IMAGE, else sandbox-local/busybox:latest.
#>
param(
    [string] $Image = $(if ($env:SANDBOX_IMAGE) { $env:SANDBOX_IMAGE } else { 'sandbox-local/busybox:latest' }),
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
$PSNativeCommandUseErrorActionPreference = $true   # a command that fails in the sandbox fails the example
if (-not (Get-Module Sandbox)) {
    $built = Get-ChildItem "$PSScriptRoot/../output/Sandbox/*/Sandbox.psd1" -ErrorAction Ignore |
        Sort-Object { [version]$_.Directory.Name } | Select-Object -Last 1
    Import-Module $(if ($env:SANDBOX_MODULE_PATH) { $env:SANDBOX_MODULE_PATH } elseif ($built) { $built.FullName } else { 'Sandbox' })
}
$engine = @{}
if ($DockerHost) { $engine.DockerHost = $DockerHost }

function Show([string] $Text) { Write-Host "`n>>> $Text" -ForegroundColor Green }

$work = Join-Path ([IO.Path]::GetTempPath()) "sandbox-example-commands-$PID"
$code = Join-Path $work 'code'
$null = New-Item -ItemType Directory -Force -Path $code
Set-Content -LiteralPath (Join-Path $code 'script.sh') -Value @'
#!/bin/sh
echo "This is a shell script running in the sandbox"
echo "Current directory: $(pwd)"
echo "Environment variables the script was given:"
env | grep -E '^(GREETING|TARGET)=' | sort
ls -la
'@

$sandbox = $null
try {
    Show "New-Sandbox -Path $code -Image $Image"
    $sandbox = New-Sandbox @engine -Path $code -Image $Image -Timeout 120 -Name "example-commands-$PID"

    Show '1. Make the script executable, a folder and a file'
    $sandbox | Invoke-SandboxCommand 'chmod +x /workspace/script.sh && mkdir -p /workspace/data'
    $sandbox | Invoke-SandboxCommand "echo 'Hello, world!' > /workspace/data/file.txt"

    Show '2. Read the file back into a PowerShell variable'
    $contents = $sandbox | Invoke-SandboxCommand 'cat /workspace/data/file.txt'
    "File contents: $contents"

    Show '3. Run the script, with environment variables for this command'
    $sandbox | Invoke-SandboxCommand './script.sh' -Environment @{ GREETING = 'hello'; TARGET = 'sandbox' }

    Show '4. Exit codes land in $LASTEXITCODE'
    $sandbox | Invoke-SandboxCommand 'echo "about to fail"; exit 3' -ErrorAction SilentlyContinue
    "exit code: $LASTEXITCODE"

    Show '5. -PassThru: a result object, standard error kept apart'
    $result = $sandbox | Invoke-SandboxCommand 'echo to-stdout; echo to-stderr >&2; ls /no-such-folder' -PassThru -ErrorAction SilentlyContinue 6>$null |
        Select-Object -Last 1
    $result | Format-List ExitCode, StdOut, StdErr, Duration | Out-Host

    Show '6. A program with arguments and no shell (-ArgumentList)'
    Invoke-SandboxCommand -Sandbox $sandbox -ArgumentList 'echo', '$HOME && not a shell'

    Show '7. Another working directory and user for one command'
    $sandbox | Invoke-SandboxCommand 'echo "in $(pwd) as uid $(id -u)"' -WorkingDirectory /tmp -User 1000

    Show '8. -TimeoutSec stops a command that runs too long (the process inside is killed)'
    $slow = $sandbox | Invoke-SandboxCommand 'sleep 60' -TimeoutSec 2 -PassThru -ErrorAction SilentlyContinue
    "TimedOut: $($slow.TimedOut), exit code $($slow.ExitCode), after $([int]$slow.Duration.TotalSeconds) s"
    $sandbox | Invoke-SandboxCommand 'echo "processes of the stopped command left: $(ps | grep -c "[s]leep 6[0]")"'

    Show '9. Commands as background jobs, side by side'
    $jobs = 'a', 'b' | ForEach-Object {
        $sandbox | Invoke-SandboxCommand "for i in 1 2; do echo 'job $_ step' `$i; sleep 1; done" -AsJob
    }
    $jobs | Receive-Job -Wait -AutoRemoveJob | Sort-Object

    Show '10. Copy a file in, work on it, copy the results out'
    $inputFile = Join-Path $work 'numbers.txt'
    Set-Content -LiteralPath $inputFile -Value (3, 1, 2)
    $sandbox | Invoke-SandboxCommand 'mkdir -p /tmp/job/out'
    Copy-SandboxItem -Path $inputFile -Destination /tmp/job/ -Sandbox $sandbox
    $sandbox | Invoke-SandboxCommand 'sort -n /tmp/job/numbers.txt > /tmp/job/out/sorted.txt && wc -l < /tmp/job/numbers.txt > /tmp/job/out/count.txt'
    Copy-SandboxItem -FromSandbox -Recurse -Path /tmp/job/out -Destination (Join-Path $work 'out') -Sandbox $sandbox
    "sorted: $(Get-Content -LiteralPath (Join-Path $work 'out/sorted.txt'))"
    "count:  $(Get-Content -LiteralPath (Join-Path $work 'out/count.txt'))"
}
finally {
    if ($sandbox) {
        Show 'Stop-Sandbox'
        $sandbox | Stop-Sandbox
        Write-Host "Removed $($sandbox.Name)."
    }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore
}
