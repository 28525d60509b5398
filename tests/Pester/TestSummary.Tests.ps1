#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# The "N passed, N failed, N skipped" line that build.ps1 Test ends with, and CI reads, comes from the summary that
# tests/tools/Invoke-PesterTests.ps1 writes. A test that ends Inconclusive has shown nothing: it counts as failed.

BeforeAll {
    $script:Runner = Join-Path $PSScriptRoot '../tools/Invoke-PesterTests.ps1'
    $script:PesterManifest = Join-Path (Get-Module Pester).ModuleBase 'Pester.psd1'

    # Runs the runner in a pwsh of its own on one test file; returns its exit code, summary and output.
    function Invoke-Runner([string] $TestText) {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([Guid]::NewGuid().ToString('n').Substring(0, 8)))
        Set-Content -LiteralPath (Join-Path $folder 'Sample.Tests.ps1') -Value $TestText
        $summary = Join-Path $folder 'summary.json'
        Push-Location (Join-Path $PSScriptRoot '../..')   # the tool manifest that names pwsh
        try {
            $output = & dotnet tool run pwsh -NoProfile -NonInteractive -File $script:Runner -PesterManifest $script:PesterManifest `
                -TestPath (Join-Path $folder 'Sample.Tests.ps1') -ResultDirectory (Join-Path $folder 'results') -SummaryPath $summary 2>&1
        }
        finally { Pop-Location }
        [pscustomobject]@{
            ExitCode = $LASTEXITCODE
            Summary  = if (Test-Path -LiteralPath $summary) { Get-Content -Raw -LiteralPath $summary | ConvertFrom-Json }
            Output   = ($output | Out-String)
        }
    }
}

Describe 'Test summary: what counts as passed, failed and skipped' {

    It 'counts an Inconclusive test as failed, names it, and exits 1' {
        $run = Invoke-Runner @'
Describe 'sample' {
    It 'passes' { 1 | Should -Be 1 }
    It 'is skipped' -Skip { 1 | Should -Be 2 }
    It 'waits for something that never happened' { Set-ItResult -Inconclusive -Because 'the copy finished too soon' }
}
'@
        $run.Summary | Should -Not -BeNullOrEmpty -Because $run.Output
        $run.Summary.Passed | Should -Be 1
        $run.Summary.Failed | Should -Be 1 -Because 'the Inconclusive test is a failure'
        $run.Summary.Skipped | Should -Be 1
        $run.Summary.Result | Should -Be 'Failed'
        $run.ExitCode | Should -Be 1
        $run.Output | Should -Match 'Inconclusive, counted as failed: sample\.waits for something that never happened: .*the copy finished too soon'
    }

    It 'names every failed test, failed block and the first line of its error in the summary that build.ps1 prints last' {
        $run = Invoke-Runner @'
Describe 'sample' {
    It 'passes' { 1 | Should -Be 1 }
    It 'expects two' { 1 | Should -Be 2 -Because 'one is not two' }
    It 'waits for something that never happened' { Set-ItResult -Inconclusive -Because 'the copy finished too soon' }
    Context 'a block whose set-up throws' {
        BeforeAll { throw "no engine`nsecond line" }
        It 'never runs' { 1 | Should -Be 1 }
    }
}
'@
        $run.Summary | Should -Not -BeNullOrEmpty -Because $run.Output
        $failures = @($run.Summary.Failures)
        $failures.Name | Should -Contain 'sample.expects two'
        $failures.Name | Should -Contain 'sample.waits for something that never happened'
        ($failures | Where-Object Name -EQ 'sample.expects two').Error | Should -Match 'one is not two'
        ($failures | Where-Object Name -EQ 'sample.waits for something that never happened').Error | Should -Match 'the copy finished too soon'
        $blockOrTest = @($failures | Where-Object Name -Match 'a block whose set-up throws')
        $blockOrTest | Should -Not -BeNullOrEmpty -Because 'a set-up that throws fails the tests under it'
        $blockOrTest[0].Error | Should -Be 'no engine' -Because 'only the first line of the error is kept'
        $run.ExitCode | Should -Be 1
    }

    It 'counts a skip with its reason as skipped, and a run of passes and skips as passed' {
        $run = Invoke-Runner @'
Describe 'sample' {
    It 'passes' { 1 | Should -Be 1 }
    It 'needs what is not here' { Set-ItResult -Skipped -Because 'no such tool here'; return }
}
'@
        $run.Summary | Should -Not -BeNullOrEmpty -Because $run.Output
        $run.Summary.Passed | Should -Be 1
        $run.Summary.Failed | Should -Be 0
        $run.Summary.Skipped | Should -Be 1
        $run.Summary.Result | Should -Be 'Passed'
        $run.ExitCode | Should -Be 0
    }
}
