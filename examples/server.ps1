<#
.SYNOPSIS
    A Python web server in a sandbox, on a published port, fetched from this computer.

.DESCRIPTION
    Copies examples/server (server.py and static/) into a sandbox that publishes container ports 8000 and
    8001 on free ports of 127.0.0.1, starts server.py in the background on 8000 and `python3 -m http.server`
    on 8001, then fetches an HTML page, a JSON API and a POST echo with Invoke-WebRequest and Invoke-RestMethod,
    shows the server's log and stops the sandbox (and the servers in it) in `finally` (the seed utility's
    HTTP server example with `ports={'8000/tcp': 22000}`; here the host port is chosen free, see $sandbox.Ports).

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/server.ps1
        dotnet tool run pwsh examples/server.ps1 -DockerHost ssh://me@build01.example.com   # ports come back over SSH
    The image needs python3; by default it is $env:SANDBOX_POLYGLOT_IMAGE, else sandbox-local/polyglot:bookworm.
#>
param(
    [string] $Image = $(if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }),
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
# The polyglot image is made on this machine, never pulled: say how to make it, not what the registry said.
trap {
    if ($_.FullyQualifiedErrorId -like 'ImageNotFound,*' -and $_.TargetObject -eq $Image) {
        throw ("examples/server.ps1 needs the image $Image, which is not on the engine. It is made, not pulled: run " +
            "$(if ($Image -ne 'sandbox-local/polyglot:bookworm') { "SANDBOX_POLYGLOT_IMAGE=$Image " })./build.sh PolyglotImage once " +
            "(from the repository root, as root; about 2 minutes), or pass -Image with an image that has python3.")
    }
    break
}
$PSNativeCommandUseErrorActionPreference = $true   # a command that fails in the sandbox fails the example
if (-not (Get-Module Sandbox)) {
    $built = Get-ChildItem "$PSScriptRoot/../output/Sandbox/*/Sandbox.psd1" -ErrorAction Ignore |
        Sort-Object { [version]$_.Directory.Name } | Select-Object -Last 1
    Import-Module $(if ($env:SANDBOX_MODULE_PATH) { $env:SANDBOX_MODULE_PATH } elseif ($built) { $built.FullName } else { 'Sandbox' })
}
$engine = @{}
if ($DockerHost) { $engine.DockerHost = $DockerHost }

function Show([string] $Text) { Write-Host "`n>>> $Text" -ForegroundColor Green }

# A server started in the background needs a moment before it answers.
function Wait-WebServer([string] $Uri, [int] $TimeoutSec = 30) {
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        try { return Invoke-WebRequest -Uri $Uri -TimeoutSec 5 -UseBasicParsing }
        catch { if ([datetime]::UtcNow -ge $deadline) { throw "No answer from $Uri within $TimeoutSec s: $($_.Exception.Message)" } }
        Start-Sleep -Milliseconds 250
    }
}

$sandbox = $null
try {
    Show "New-Sandbox -Path examples/server -CopyPath -Port 8000, 8001 -Image $Image"
    # -CopyPath: the server's log and files stay in the sandbox, not in this folder.
    $sandbox = New-Sandbox @engine -Path (Join-Path $PSScriptRoot 'server') -CopyPath -Port 8000, 8001 `
        -Image $Image -Timeout 180 -Name "example-server-$PID"
    $sandbox.Ports | Format-Table ContainerPort, HostIp, HostPort, Url -AutoSize | Out-Host
    $appUrl = ($sandbox.Ports | Where-Object ContainerPort -EQ 8000).Url.TrimEnd('/')
    $staticUrl = ($sandbox.Ports | Where-Object ContainerPort -EQ 8001).Url.TrimEnd('/')

    Show "Invoke-SandboxCommand 'python3 server.py 8000 > /tmp/server.log 2>&1 &'"
    $sandbox | Invoke-SandboxCommand 'python3 server.py 8000 > /tmp/server.log 2>&1 &'
    Show "Invoke-SandboxCommand 'python3 -m http.server 8001 --directory static > /tmp/static.log 2>&1 &'"
    $sandbox | Invoke-SandboxCommand 'python3 -m http.server 8001 --directory static > /tmp/static.log 2>&1 &'
    "Both commands returned at once; the servers keep running in the sandbox."

    Show "Invoke-WebRequest $appUrl/"
    $page = Wait-WebServer "$appUrl/"
    "status $($page.StatusCode), $($page.Headers['Content-Type'])"
    $page.Content.Trim()

    Show "Invoke-RestMethod $appUrl/api/info"
    Invoke-RestMethod -Uri "$appUrl/api/info" | Format-List | Out-Host

    Show "Invoke-RestMethod -Method Post $appUrl/api/echo"
    $reply = Invoke-RestMethod -Method Post -Uri "$appUrl/api/echo" -ContentType 'application/json' `
        -Body (@{ message = 'Hello from the host'; from = [Environment]::MachineName } | ConvertTo-Json)
    "echoed back: $($reply.received.message) (success: $($reply.success))"

    Show "Invoke-WebRequest $staticUrl/hello.txt  (python3 -m http.server)"
    (Wait-WebServer "$staticUrl/hello.txt").Content.Trim()

    Show 'The server log, from inside the sandbox'
    $sandbox | Invoke-SandboxCommand 'cat /tmp/server.log'
}
finally {
    if ($sandbox) {
        Show 'Stop-Sandbox  (the servers stop with it)'
        $sandbox | Stop-Sandbox
        Write-Host "Removed $($sandbox.Name)."
    }
}
