<#
.SYNOPSIS
    Makes a module's .nupkg, as the PowerShell Gallery takes it, with PSResourceGet.

.DESCRIPTION
    Registers DestinationPath as a PSResourceGet repository under a one-off name, publishes the module folder there
    with Publish-PSResource (which checks the manifest with Test-ModuleManifest first) and unregisters the repository
    again whatever happens, so the user's repository list ends as it began. Returns the .nupkg file.
    Used by `build.ps1 Package` and tests/Pester/Package.Tests.ps1.

.EXAMPLE
    ./tools/New-ModulePackage.ps1 -ModulePath output/Sandbox/0.1.0 -DestinationPath output/packages
#>
[CmdletBinding()]
param(
    # The module folder: the one with <Name>.psd1 (output/Sandbox/<version>).
    [Parameter(Mandatory)] [string] $ModulePath,
    # Where the .nupkg goes; made when missing. A package of the same name and version there is replaced.
    [Parameter(Mandatory)] [string] $DestinationPath
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

Import-Module Microsoft.PowerShell.PSResourceGet

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$name = Split-Path -Leaf (Split-Path -Parent $ModulePath)              # output/<Name>/<version>
if (-not (Test-Path -LiteralPath (Join-Path $ModulePath "$name.psd1"))) {
    $name = (Get-ChildItem -LiteralPath $ModulePath -Filter *.psd1 | Select-Object -First 1).BaseName
}
$manifest = Test-ModuleManifest -Path (Join-Path $ModulePath "$name.psd1")
$prerelease = $manifest.PrivateData.PSData['Prerelease']
$version = if ($prerelease) { "$($manifest.Version)-$prerelease" } else { "$($manifest.Version)" }

$null = New-Item -ItemType Directory -Force -Path $DestinationPath
$DestinationPath = (Resolve-Path -LiteralPath $DestinationPath).Path
$nupkg = Join-Path $DestinationPath "$name.$version.nupkg"
Remove-Item -LiteralPath $nupkg -ErrorAction SilentlyContinue      # a repository takes each version once

$repository = '{0}Package-{1}' -f $name, [Guid]::NewGuid().ToString('n').Substring(0, 8)
Register-PSResourceRepository -Name $repository -Uri $DestinationPath -Trusted
try {
    Publish-PSResource -Path $ModulePath -Repository $repository
} finally {
    Unregister-PSResourceRepository -Name $repository -ErrorAction SilentlyContinue
}
if (-not (Test-Path -LiteralPath $nupkg)) { throw "Publish-PSResource made no $nupkg" }
Get-Item -LiteralPath $nupkg
