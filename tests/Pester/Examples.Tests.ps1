#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Every script in examples/ runs as a user would run it, against the built module and the local engine: demo.ps1
# with `pwsh -NoProfile -File examples/demo.ps1`, the others all at once, as `pwsh -File examples/all.ps1` runs them
# (one pwsh, one after the other: the minutes a pwsh per example would cost are better spent elsewhere). Each
# example must pass in all.ps1's summary, print what it is about in its own part of the output, and leave no
# container or volume behind.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $examplesFolder = Join-Path (Get-TestRepoRoot) 'examples'

    # What each example must print (wildcard patterns, each matched by some line) and the names of the sandboxes it
    # makes (wildcards; the demo's sandbox has a generated name, taken from its output by NameFromOutput).
    $expectations = @{
        'demo'      = @{ NameFromOutput = '^Name\s+: (\S+)$'; Output = 'Hello from *, a throwaway sandbox', 'This line goes to stderr', 'exit code: 0', 'Workspace        : mounted read-write from *sandbox-demo-*', 'apple', 'banana', 'cherry', 'ExitCode    : 3', 'Removed sandbox-*.' }
        'basic'     = @{ Names = 'example-basic-*'; Output = 'Hello from a Sandbox!', 'Python 3.* on Linux *, isolated in a container.', '*hello.py', 'The sandbox was removed when the Use-Sandbox block ended.' }
        'project'   = @{ Names = 'example-project-*'; Output = 'requests version: 2.*', 'Found example-project-* (running), id *', 'Refused: SandboxProjectConflict', 'With -Reuse: the same sandbox: True', 'notes.txt says: written from a second handle', 'Removed example-project-*.' }
        'resources' = @{ Names = 'example-resources-*'; Output = 'memory.max: 536870912 bytes', 'cpu.max:    50000 100000 *', 'pids.max:   50', 'memory.max: 67108864 bytes', 'pids.max:   20', 'OomKilled : True', 'Killed for memory, as expected: SandboxCommandOutOfMemory', 'process * refused: the pids limit holds', 'and after they ended, a new one runs' }
        'commands'  = @{ Names = 'example-commands-*'; Output = 'File contents: Hello, world!', 'GREETING=hello', 'TARGET=sandbox', 'exit code: 3', 'StdErr   : to-stderr', '$HOME && not a shell', 'in /tmp as uid 1000', 'TimedOut: True, exit code 124, after 2 s', 'processes of the stopped command left: 0', 'job b step 2', 'sorted: 1 2 3', 'count:  3' }
        'manage'    = @{ Names = 'example-manage-*'; Output = 'made 3: example-manage-*-1, example-manage-*-2, example-manage-*-3', 'example-manage-*-2 manage-example-2-* running *', 'Name      : example-manage-*-1', 'deadline moved from * to * UTC', 'Sandbox 1 is running', 'Sandbox 3 is running', 'All closed; sandboxes of this example left: 0.' }
        'server'    = @{ Names = 'example-server-*'; Output = 'status 200, text/html; charset=utf-8', '<h1>Hello World from a Sandbox!</h1>', 'python : 3.*', 'echoed back: Hello from the host (success: True)', 'A static file, served by python3 -m http.server.', 'server: * "POST /api/echo HTTP/1.1" 200 -' }
        'image'     = @{ Names = 'example-image-*'; Output = 'OS: Debian GNU/Linux 12 (bookworm)', 'Hello from Python 3.*', 'Hello from Node v*', 'Hello from an image built by New-Sandbox -Build', 'built on * with Python 3.* and node v*', 'requests 2.* on Python 3.*', 'prepared, not sent: GET https://example.com/search?q=sandbox&lang=python', '*same image: True' }
        'agent-loop' = @{ Names = 'example-agent-loop-*'; Output = 'session agent in example-agent-loop-*: Open', '/tmp/project', '*FAIL: answer is 41, want 42', 'attempt 1 failed with exit code 1; editing settings.conf', '*PASS', 'passed on attempt 2', 'stopped: SandboxCommandTimeout, exit code 124', 'still in /tmp/project with CHECK_TARGET=42', '500 steps in * ms (* ms each); steps.log has 500 lines', 'session state after Stop-Sandbox: Closed' }
        'web-app'   = @{ Names = 'example-web-app-*'; Output = 'in the image at /workspace: *server.js*', '<h1>Web app in a sandbox</h1>', 'status 200, text/html; charset=utf-8', 'created to-do 2: Serve the app', 'status 404: *no route GET /no-such-page*', 'web-app: POST /api/todos 201' }
    }
    $allRuns = 'basic', 'project', 'resources', 'commands', 'manage', 'image', 'server', 'web-app', 'agent-loop'
    $expectations['all'] = @{
        Names  = @($allRuns | ForEach-Object { $expectations[$_].Names })
        Output = @('9 of 9 examples passed.') + @($allRuns | ForEach-Object { "$_.ps1*passed*" })
    }

    $examples = foreach ($file in Get-ChildItem -LiteralPath $examplesFolder -Filter *.ps1 | Sort-Object Name) {
        $expected = $expectations[$file.BaseName]
        @{
            Name           = $file.BaseName
            Path           = $file.FullName
            Names          = if ($expected) { @($expected.Names) } else { @() }
            NameFromOutput = if ($expected) { $expected.NameFromOutput } else { $null }
            Output         = if ($expected) { @($expected.Output) } else { @() }
            # Run by all.ps1, whose output holds a part for each of them.
            InAll          = $file.BaseName -in $allRuns
        }
    }
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'examples'
    $script:PolyglotImage = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }
    $script:RunTimes = [ordered]@{}
    $script:Runs = @{}

    # Module-made containers and volumes whose names match, as "container <name>" / "volume <name>".
    function Get-ExampleLeftover([string[]] $Like) {
        if (-not $Like) { return }
        $containers = docker ps -a --filter 'label=io.sandbox.managed=true' --format '{{.Names}}'
        $volumes = docker volume ls --format '{{.Name}}'
        foreach ($pattern in $Like) {
            $containers | Where-Object { $_ -like $pattern } | ForEach-Object { "container $_" }
            $volumes | Where-Object { $_ -like $pattern } | ForEach-Object { "volume $_" }
        }
    }

    # Runs the example in a pwsh of its own, from the repository root, as the README says; kills it (and its
    # children) after the time limit. Returns the exit code, the output lines (stdout and stderr, no colours) and the time.
    function Invoke-Example([string] $Path, [int] $TimeoutSec) {
        $log = Join-Path $TestDrive ('{0}-{1}' -f [IO.Path]::GetFileNameWithoutExtension($Path), [Guid]::NewGuid().ToString('n').Substring(0, 6))
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $process = Use-TestEnvironment @{ NO_COLOR = '1'; SANDBOX_POLYGLOT_IMAGE = $script:PolyglotImage } {
            Start-Process -FilePath 'dotnet' -WorkingDirectory (Get-TestRepoRoot) -PassThru `
                -RedirectStandardOutput "$log.out" -RedirectStandardError "$log.err" `
                -ArgumentList @('tool', 'run', 'pwsh', '-NoProfile', '-NonInteractive', '-File', $Path)
        }
        $finished = $process.WaitForExit($TimeoutSec * 1000)
        if (-not $finished) { $process.Kill($true); $process.WaitForExit() }
        $lines = @(Get-Content -LiteralPath "$log.out", "$log.err" -ErrorAction Ignore) -replace '\e\[[\d;?]*[A-Za-z]', ''
        [pscustomobject]@{
            ExitCode = if ($finished) { $process.ExitCode } else { "killed after $TimeoutSec s" }
            Lines    = $lines
            Seconds  = [Math]::Round($clock.Elapsed.TotalSeconds, 1)
        }
    }

    # The lines of one example's part of all.ps1's output: from its header to the next one.
    function Select-ExamplePart([string[]] $Lines, [string] $Name) {
        $inside = $false
        foreach ($line in $Lines) {
            if ($line -match '^================ (\S+) ================$') { $inside = $Matches[1] -eq "$Name.ps1"; continue }
            if ($inside) { $line }
        }
    }

    # all.ps1 once for the file, and each example's leftovers taken before, to compare with after.
    function Get-AllRun([hashtable[]] $Examples) {
        if (-not $script:Runs.ContainsKey('all')) {
            $script:BeforeAllRun = @{}
            foreach ($e in $Examples) { $script:BeforeAllRun[$e.Name] = @(Get-ExampleLeftover $e.Names) }
            $script:Runs['all'] = Invoke-Example -Path (Join-Path (Get-TestRepoRoot) 'examples/all.ps1') -TimeoutSec 900
            $script:RunTimes['all'] = $script:Runs['all'].Seconds
        }
        $script:Runs['all']
    }
}

AfterAll {
    if ($script:RunTimes.Count) {
        Write-Host "`nExample run times (s): $(($script:RunTimes.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join ', ')"
    }
    Complete-SandboxTest
}

# One Describe per example with its name written out, so that -TestName '*server*' picks one.
foreach ($example in $examples) {
    Describe "examples/$($example.Name).ps1" -ForEach @($example + @{ AllExamples = $examples }) {

        It 'runs, passes, prints what it shows and leaves no sandbox behind' {
            $Output | Should -Not -BeNullOrEmpty -Because "examples/$Name.ps1 needs its expected output in Examples.Tests.ps1"

            $before = @(Get-ExampleLeftover $Names)
            if ($Name -eq 'all' -or $InAll) {
                $run = Get-AllRun $AllExamples
                $before = $script:BeforeAllRun[$Name]
            }
            if ($Name -eq 'all') {
                $lines = $run.Lines
            } elseif ($InAll) {
                $lines = @(Select-ExamplePart $run.Lines $Name)
                $lines | Should -Not -BeNullOrEmpty -Because "all.ps1 runs examples/$Name.ps1 under a header of its own:`n$($run.Lines -join "`n")"
                @($run.Lines | Where-Object { $_ -match "^\s*$([regex]::Escape("$Name.ps1"))\s+(\S+)" -and $Matches[1] -eq 'passed' }) |
                    Should -Not -BeNullOrEmpty -Because "all.ps1's summary must show examples/$Name.ps1 passed:`n$($run.Lines -join "`n")"
            } else {
                $run = Invoke-Example -Path $Path -TimeoutSec 300
                $script:RunTimes[$Name] = $run.Seconds
                $lines = $run.Lines
            }
            $text = $lines -join "`n"

            $names = $Names
            if ($NameFromOutput) {
                $names = @($lines | ForEach-Object { if ($_ -match $NameFromOutput) { $Matches[1] } })
                $names = $names | ForEach-Object { $_; "$_-*" }   # the container and its volumes
            }
            # Leftovers are found and removed first, so that a failed assertion below leaves nothing behind either.
            # Removal of a deadline volume may trail its container's by a moment.
            $gone = Wait-Until -TimeoutSec 15 {
                $script:leftover = @(Get-ExampleLeftover $names | Where-Object { $_ -notin $before })
                -not $script:leftover
            }
            foreach ($item in $script:leftover) {
                $kind, $itemName = $item -split ' ', 2
                if ($kind -eq 'container') { docker rm -f -v $itemName *> $null } else { docker volume rm -f $itemName *> $null }
            }

            $run.ExitCode | Should -Be 0 -Because "examples/$(if ($InAll) { 'all' } else { $Name }).ps1 printed:`n$($run.Lines -join "`n")"
            foreach ($pattern in $Output) {
                @($lines | Where-Object { $_.Trim() -like $pattern }) | Should -Not -BeNullOrEmpty -Because "a line like '$pattern' is expected in:`n$text"
            }
            @($lines | Where-Object { $_ -match '^\s*Line \|' }) | Should -BeNullOrEmpty -Because "no error is expected in:`n$text"

            if ($NameFromOutput) { $names | Should -Not -BeNullOrEmpty -Because "the output names the sandbox:`n$text" }
            $gone | Should -BeTrue -Because "examples/$Name.ps1 left behind (removed now): $($script:leftover -join ', ')"
        }
    }
}
