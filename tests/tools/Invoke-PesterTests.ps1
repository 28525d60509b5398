<#
.SYNOPSIS
    Runs the Pester tests in this (child) PowerShell process and writes a JSON summary for build.ps1.
    Started by `build.ps1 Test` as: dotnet tool run pwsh -NoProfile -File tests/tools/Invoke-PesterTests.ps1 ...
    The tests import the built module with: Import-Module $env:SANDBOX_MODULE_PATH
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $TestPath,
    [Parameter(Mandatory)] [string] $ResultDirectory,
    [Parameter(Mandatory)] [string] $SummaryPath,
    # Comma-separated wildcards matched against each test's full name.
    [string] $FullNameFilter
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterManifest -Force

$null = New-Item -ItemType Directory -Force -Path $ResultDirectory
$config = New-PesterConfiguration
$config.Run.Path = $TestPath
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Output.Verbosity = 'Detailed'
$config.Output.CIFormat = 'None'
if ($env:CI -or $env:NO_COLOR) { $config.Output.RenderMode = 'Plaintext' }   # no ANSI codes in CI logs
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'JUnitXml'
$config.TestResult.OutputPath = Join-Path $ResultDirectory 'pester.junit.xml'
if ($FullNameFilter) { $config.Filter.FullName = @($FullNameFilter -split ',' | ForEach-Object Trim | Where-Object { $_ }) }

$result = Invoke-Pester -Configuration $config

# Inconclusive counts as failed: a test that could not tell whether the code works has not shown that it does.
# NotRun stays out of the counts: Pester gives it only to tests that -FullNameFilter left out (a test that should
# have run and did not, after a failed BeforeAll, is Failed).
$inconclusive = @($result.Tests | Where-Object Result -EQ 'Inconclusive')
foreach ($test in $inconclusive) {
    Write-Host "Inconclusive, counted as failed: $($test.ExpandedPath): $($test.ErrorRecord | ForEach-Object { $_.Exception.Message })" -ForegroundColor Red
}
$failed = $result.FailedCount + $result.InconclusiveCount + $result.FailedBlocksCount + $result.FailedContainersCount

# What failed, by name and the first line of its error: build.ps1 prints these in its closing summary, the part of a
# long CI log that is read first.
function Get-FirstErrorLine($ErrorRecords) {
    $text = "$(@($ErrorRecords)[0] | ForEach-Object { $_.Exception.Message })".Trim()
    $line = ($text -split '\r?\n')[0]
    if ($line.Length -gt 300) { $line = $line.Substring(0, 300) + '...' }
    $line
}
$failures = @(
    foreach ($test in @($result.Failed) + $inconclusive) {
        # A test under a block whose set-up threw has no error of its own: the block's is the reason.
        $records = $test.ErrorRecord
        for ($block = $test.Block; -not $records -and $block; $block = $block.Parent) { $records = $block.ErrorRecord }
        [ordered]@{ Name = $test.ExpandedPath; Error = Get-FirstErrorLine $records }
    }
    foreach ($block in $result.FailedBlocks) {
        [ordered]@{ Name = "$($block.ExpandedPath) (block)"; Error = Get-FirstErrorLine $block.ErrorRecord }
    }
    foreach ($container in $result.FailedContainers) {
        [ordered]@{ Name = "$($container.Item) (file)"; Error = Get-FirstErrorLine $container.ErrorRecord }
    }
)
[ordered]@{
    Result           = if ($failed -gt 0) { 'Failed' } else { $result.Result }
    Passed           = $result.PassedCount
    Failed           = $failed
    Skipped          = $result.SkippedCount
    Inconclusive     = $result.InconclusiveCount
    NotRun           = $result.NotRunCount
    FailedBlocks     = $result.FailedBlocksCount
    FailedContainers = $result.FailedContainersCount
    Duration         = $result.Duration.ToString()
    Failures         = $failures
} | ConvertTo-Json | Set-Content -LiteralPath $SummaryPath -Encoding utf8
exit ([int]($failed -gt 0 -or $result.Result -ne 'Passed'))
