#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# A newcomer's first minutes: `./build.sh Demo` builds only what the demo uses and says how long the whole run took;
# output sent to a file or a pipe has no escape codes (a terminal keeps its colours, NO_COLOR drops them); an example
# whose locally made image is missing says how to make it.
#
# ./build.sh Demo runs on a copy of the repository (its tracked and new files) in TestDrive: its Build task remakes
# output/, which the test run itself is using.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'firstrun'
    $script:Root = Get-TestRepoRoot

    # Runs a command line under bash from the folder with stdout and stderr into one file; with -Terminal under
    # script(1), whose pseudo-terminal is what the command's output sees. Returns the exit code and the text.
    function Invoke-Logged {
        param([string] $CommandLine, [string] $Folder = $script:Root, [hashtable] $Environment = @{}, [switch] $Terminal, [int] $TimeoutSec = 300)
        $log = Join-Path $TestDrive ('run-{0}.log' -f [Guid]::NewGuid().ToString('n').Substring(0, 8))
        $line = if ($Terminal) { "script -qec $(ConvertTo-ShellWord $CommandLine) /dev/null" } else { $CommandLine }
        $start = [Diagnostics.ProcessStartInfo]::new('bash')
        $start.WorkingDirectory = $Folder
        $start.ArgumentList.Add('-c')
        $start.ArgumentList.Add("{ $line ; } > $(ConvertTo-ShellWord $log) 2>&1 < /dev/null")
        $start.UseShellExecute = $false
        $process = Use-TestEnvironment $Environment { [Diagnostics.Process]::Start($start) }
        $finished = $process.WaitForExit($TimeoutSec * 1000)
        if (-not $finished) { $process.Kill($true); $process.WaitForExit() }
        [pscustomobject]@{
            ExitCode = if ($finished) { $process.ExitCode } else { "killed after $TimeoutSec s" }
            Text     = [IO.File]::ReadAllText($log)
        }
    }

    function ConvertTo-ShellWord([string] $Text) { "'" + ($Text -replace "'", "'\''") + "'" }

    # Colour and other terminal escapes: ESC followed by anything.
    function Get-EscapeLine([string] $Text) { @($Text -split "`n" | Where-Object { $_ -match "`e" } | ForEach-Object { $_ -replace "`e", '<ESC>' }) }
    # Colour (SGR) sequences only: what NO_COLOR is about (a terminal also gets mode escapes from .NET itself).
    function Get-ColourLine([string] $Text) { @($Text -split "`n" | Where-Object { $_ -match "`e\[[0-9;]*m" } | ForEach-Object { $_ -replace "`e", '<ESC>' }) }

    # The environment the child runs in: no NO_COLOR from the test run (CI sets it), unless the test sets it.
    $script:NoColourUnset = @{ NO_COLOR = $null }
    $script:Pwsh = 'dotnet tool run pwsh -NoProfile -NonInteractive -File'
}

AfterAll {
    Complete-SandboxTest
}

Describe './build.sh Demo, as a newcomer runs it' {
    BeforeAll {
        # A tag that no engine has: were the demo to build the polyglot image, it would build this one.
        $absent = "sandbox-local/polyglot:absent-$([Guid]::NewGuid().ToString('n').Substring(0, 8))"
        $copy = Join-Path $TestDrive 'repo'
        foreach ($file in git -C $script:Root ls-files --cached --others --exclude-standard) {
            $target = Join-Path $copy $file
            if (-not (Test-Path -LiteralPath (Join-Path $script:Root $file) -PathType Leaf)) { continue }   # deleted, not yet committed
            $null = New-Item -ItemType Directory -Force -Path (Split-Path $target)
            Copy-Item -LiteralPath (Join-Path $script:Root $file) -Destination $target
        }
        $run = Invoke-Logged './build.sh Demo' -Folder $copy -TimeoutSec 600 `
            -Environment @{ NO_COLOR = $null; SANDBOX_POLYGLOT_IMAGE = $absent; SANDBOX_MODULE_PATH = $null }
    }
    AfterAll {
        docker image rm -f $absent *> $null   # only if the demo made it after all
        # The demo's sandbox is removed by the demo; a failed run may leave it (its name is in the log).
        foreach ($name in [regex]::Matches($run.Text, '(?m)^Name\s+: (sandbox-[0-9a-f]+)') | ForEach-Object { $_.Groups[1].Value }) {
            docker rm -f -v $name *> $null
        }
    }

    It 'passes, builds no polyglot image and ends with the time of the whole run' {
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Text | Should -Match '(?m)^Removed sandbox-[0-9a-f]+\.' -Because 'the demo ran to its end'
        docker image inspect $absent *> $null
        $LASTEXITCODE | Should -Not -Be 0 -Because "the demo uses only the busybox image, so $absent must not have been built"
        $run.Text | Should -Not -Match '(?i)polyglot' -Because "the demo neither builds nor checks the polyglot image:`n$($run.Text)"
        $run.Text | Should -Match '(?m)^\./build\.sh Demo took \d+ s in all, from its start to the end of the demo\.' -Because $run.Text
    }

    It 'writes no escape code into a log file' {
        Get-EscapeLine $run.Text | Should -BeNullOrEmpty
    }
}

Describe 'Colour only on a terminal' {
    It 'examples/demo.ps1 writes plain text into a pipe' {
        $run = Invoke-Logged "$script:Pwsh examples/demo.ps1 | cat" -Environment $script:NoColourUnset
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Text | Should -Match '(?m)^Name\s+: sandbox-' -Because 'the demo shows the sandbox with Format-List'
        Get-EscapeLine $run.Text | Should -BeNullOrEmpty
    }

    It 'examples/commands.ps1 writes plain text into a file' {
        $run = Invoke-Logged "$script:Pwsh examples/commands.ps1" -Environment $script:NoColourUnset
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Text | Should -Match '(?m)^StdErr\s+: to-stderr' -Because 'the example shows a result with Format-List'
        Get-EscapeLine $run.Text | Should -BeNullOrEmpty
    }

    It 'examples/demo.ps1 on a terminal is in colour' {
        $run = Invoke-Logged "$script:Pwsh examples/demo.ps1" -Terminal -Environment $script:NoColourUnset
        $run.ExitCode | Should -Be 0 -Because $run.Text
        Get-ColourLine $run.Text | Should -Not -BeNullOrEmpty -Because "a terminal keeps its colours:`n$($run.Text)"
    }

    It 'examples/demo.ps1 on a terminal with NO_COLOR has no colour' {
        $run = Invoke-Logged "$script:Pwsh examples/demo.ps1" -Terminal -Environment @{ NO_COLOR = '1' }
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Text | Should -Match 'Name\s+: sandbox-' -Because 'the demo ran'
        Get-ColourLine $run.Text | Should -BeNullOrEmpty
    }
}

Describe 'An example whose image is missing' {
    It 'says how to make the polyglot image instead of what the registry said' {
        $absent = "sandbox-local/polyglot:absent-$([Guid]::NewGuid().ToString('n').Substring(0, 8))"
        $run = Invoke-Logged "$script:Pwsh examples/basic.ps1" -Environment @{ NO_COLOR = '1'; SANDBOX_POLYGLOT_IMAGE = $absent }
        $run.ExitCode | Should -Not -Be 0
        $text = $run.Text -replace '\s*\r?\n\s*\|?\s*', ' '   # the error view wraps the message
        $text | Should -Match ([regex]::Escape("examples/basic.ps1 needs the image $absent, which is not on the engine.")) -Because $run.Text
        $text | Should -Match ([regex]::Escape("SANDBOX_POLYGLOT_IMAGE=$absent ./build.sh PolyglotImage")) -Because $run.Text
    }
}
