<#
.SYNOPSIS
    A web app: build an image from a Node project folder with New-Sandbox -Build, serve it, use its API.

.DESCRIPTION
    examples/web-app holds a small Node app (package.json, server.js: an HTML page and a JSON to-do API).
    New-Sandbox -Build detects Node from package.json, makes an image from -BaseImage with `npm install`
    run and the folder at /workspace (.dockerignore keeps node_modules and logs out), and starts a sandbox
    of it that publishes port 3000 on a free port of 127.0.0.1. The example starts the app in the background,
    fetches the page, adds to-do items with POST requests, lists them, shows a 404 and the app's log, and
    stops the sandbox in `finally`. Building the unchanged folder again reuses the image.

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/web-app.ps1
        dotnet tool run pwsh examples/web-app.ps1 -DockerHost ssh://me@build01.example.com   # ports come back over SSH
    The base image needs node and npm; by default $env:SANDBOX_POLYGLOT_IMAGE, else sandbox-local/polyglot:bookworm.
#>
param(
    [string] $BaseImage = $(if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }),
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
# The polyglot image is made on this machine, never pulled: say how to make it, not what the registry said.
trap {
    if (($_.FullyQualifiedErrorId -like 'ImageNotFound,*' -and $_.TargetObject -eq $BaseImage) -or
        ($_.FullyQualifiedErrorId -like 'ImageBuildFailed,*' -and "$_" -like "*(FROM $BaseImage)*")) {
        throw ("examples/web-app.ps1 needs the image $BaseImage, which is not on the engine. It is made, not pulled: run " +
            "$(if ($BaseImage -ne 'sandbox-local/polyglot:bookworm') { "SANDBOX_POLYGLOT_IMAGE=$BaseImage " })./build.sh PolyglotImage once " +
            "(from the repository root, as root; about 2 minutes), or pass -BaseImage with an image that has node and npm.")
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

# An app started in the background needs a moment before it answers.
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
    Show "New-Sandbox -Build -Path examples/web-app -BaseImage $BaseImage -Port 3000"
    $sandbox = New-Sandbox @engine -Build -Path (Join-Path $PSScriptRoot 'web-app') -BaseImage $BaseImage -Port 3000 `
        -Timeout 180 -Name "example-web-app-$PID"
    $url = $sandbox.Ports[0].Url.TrimEnd('/')
    "image: $($sandbox.Image)"
    "port 3000 of the sandbox is $url"
    $sandbox | Invoke-SandboxCommand 'echo "in the image at /workspace: $(ls | tr "\n" " ")"'

    Show "Invoke-SandboxCommand 'PORT=3000 node server.js > /tmp/web-app.log 2>&1 &'"
    $sandbox | Invoke-SandboxCommand 'PORT=3000 node server.js > /tmp/web-app.log 2>&1 &'

    Show "Invoke-WebRequest $url/"
    $page = Wait-WebServer "$url/"
    "status $($page.StatusCode), $($page.Headers['Content-Type'])"
    $page.Content.Trim()

    Show "Invoke-RestMethod $url/api/health"
    Invoke-RestMethod -Uri "$url/api/health" | Format-List | Out-Host

    Show "Invoke-RestMethod -Method Post $url/api/todos  (twice)"
    foreach ($title in 'Build the image', 'Serve the app') {
        $todo = Invoke-RestMethod -Method Post -Uri "$url/api/todos" -ContentType 'application/json' -Body (@{ title = $title } | ConvertTo-Json)
        "created to-do $($todo.id): $($todo.title)"
    }

    Show "Invoke-RestMethod $url/api/todos"
    $todos = Invoke-RestMethod -Uri "$url/api/todos"   # the JSON array, as one array
    $todos | Format-Table id, title, done -AutoSize | Out-Host
    if ($todos.Count -ne 2) { throw "The app lists $($todos.Count) to-do items instead of 2." }

    Show "Invoke-WebRequest $url/no-such-page"
    $missing = Invoke-WebRequest -Uri "$url/no-such-page" -SkipHttpErrorCheck -UseBasicParsing
    "status $($missing.StatusCode): $($missing.Content)"

    Show "The app's log, from inside the sandbox"
    $sandbox | Invoke-SandboxCommand 'cat /tmp/web-app.log'
}
finally {
    if ($sandbox) {
        Show 'Stop-Sandbox  (the app stops with it)'
        $sandbox | Stop-Sandbox
        Write-Host "Removed $($sandbox.Name). The built image stays, as a cache for the next run."
    }
}
