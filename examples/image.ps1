<#
.SYNOPSIS
    Images: run code in an image of your choice, and build images from code with New-Sandbox -Build.

.DESCRIPTION
    First a sandbox of a ready image (-Image) that has both Python and Node runs a snippet of each with
    Invoke-SandboxCode. Then New-Sandbox -Build makes images from code folders (the seed utility's
    `image=...` and its never-implemented `buildpacks=True`):
      - examples/image/custom-dockerfile has a Dockerfile, which is built as is;
      - examples/image/python-app has requirements.txt, so it is detected as Python: an image is made from
        -BaseImage with the requirements installed and the folder copied to /workspace.
    Images are tagged by a hash of their inputs, so building the unchanged project again is a cache hit and
    takes a moment. The sandboxes are stopped in `finally`; the built images stay, as a cache for the next run
    (`docker image ls` lists them; `docker image rm <tag>` removes one).

    Run it from the repository root after `./build.sh Build`:
        dotnet tool run pwsh examples/image.ps1
        dotnet tool run pwsh examples/image.ps1 -DockerHost ssh://me@build01.example.com   # built on that engine
    The images need python3, pip and node; by default $env:SANDBOX_POLYGLOT_IMAGE, else sandbox-local/polyglot:bookworm.
#>
param(
    [string] $Image = $(if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }),
    [string] $BaseImage = $Image,
    [string] $DockerHost
)
$ErrorActionPreference = 'Stop'
if ($PSStyle -and ([Console]::IsOutputRedirected -or $env:NO_COLOR)) { $PSStyle.OutputRendering = 'PlainText' }   # colour only on a terminal
# The polyglot image is made on this machine, never pulled: say how to make it, not what the registry said.
trap {
    if (($_.FullyQualifiedErrorId -like 'ImageNotFound,*' -and $_.TargetObject -eq $Image) -or
        ($_.FullyQualifiedErrorId -like 'ImageBuildFailed,*' -and "$_" -like "*(FROM $BaseImage)*")) {
        throw ("examples/image.ps1 needs the image $Image, which is not on the engine. It is made, not pulled: run " +
            "$(if ($Image -ne 'sandbox-local/polyglot:bookworm') { "SANDBOX_POLYGLOT_IMAGE=$Image " })./build.sh PolyglotImage once " +
            "(from the repository root, as root; about 2 minutes), or pass -Image with an image that has python3, pip and node.")
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

$sandboxes = [System.Collections.Generic.List[object]]::new()
try {
    Show "New-Sandbox -Image $Image"
    $ready = New-Sandbox @engine -Image $Image -Timeout 180 -Name "example-image-$PID-ready"
    $sandboxes.Add($ready)
    $ready | Invoke-SandboxCommand '. /etc/os-release && echo "OS: $PRETTY_NAME"'

    Show 'Invoke-SandboxCode -Language python'
    $ready | Invoke-SandboxCode -Language python -Code @'
import platform
print(f"Hello from Python {platform.python_version()} on {platform.platform()}")
'@
    Show 'Invoke-SandboxCode -Language node'
    $ready | Invoke-SandboxCode -Language node -Code 'console.log(`Hello from Node ${process.version} on ${process.platform}`)'

    Show 'New-Sandbox -Build -Path examples/image/custom-dockerfile  (its Dockerfile, built as is)'
    $custom = New-Sandbox @engine -Build -Path (Join-Path $PSScriptRoot 'image/custom-dockerfile') -Timeout 180 -Name "example-image-$PID-dockerfile"
    $sandboxes.Add($custom)
    "image: $($custom.Image)"
    $custom | Invoke-SandboxCommand 'python3 /opt/tools/greet.py'

    $project = Join-Path $PSScriptRoot 'image/python-app'
    Show "New-Sandbox -Build -Path examples/image/python-app -BaseImage $BaseImage  (Python, from requirements.txt)"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $app = New-Sandbox @engine -Build -Path $project -BaseImage $BaseImage -Timeout 180 -Name "example-image-$PID-python"
    $sandboxes.Add($app)
    "image: $($app.Image), ready in $([Math]::Round($clock.Elapsed.TotalSeconds, 1)) s"
    $app | Invoke-SandboxCommand 'ls /workspace && python3 main.py'

    Show 'The same project again: its image is found by the hash of its inputs, not built again'
    $clock.Restart()
    $again = New-Sandbox @engine -Build -Path $project -BaseImage $BaseImage -Timeout 180 -Name "example-image-$PID-again"
    $sandboxes.Add($again)
    "image: $($again.Image), ready in $([Math]::Round($clock.Elapsed.TotalSeconds, 1)) s; same image: $($again.Image -eq $app.Image)"
    if ($again.Image -ne $app.Image) { throw 'The unchanged project got a new image instead of the cached one.' }
    $again | Invoke-SandboxCommand 'python3 main.py'
}
finally {
    if ($sandboxes.Count) {
        Show 'Stop-Sandbox'
        $sandboxes | Stop-Sandbox
        Write-Host "Removed $($sandboxes.Name -join ', '). The built images stay, as a cache."
    }
}
