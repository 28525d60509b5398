#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'exec'

    $project = New-TestProjectId 'exec'
    $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'code')
    $sandbox = New-Sandbox -Name (New-TestName 'exec') -ProjectId $project -Path $code
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Invoke-SandboxCommand' {

    Context 'output' {
        It 'writes each stdout line to the pipeline as a string' {
            $lines = Invoke-SandboxCommand -Sandbox $sandbox 'echo one; echo two'
            $lines | Should -HaveCount 2
            $lines[0] | Should -BeOfType ([string])
            $lines | Should -Be 'one', 'two'
        }

        It 'runs the command under /bin/sh -c (pipes and &&)' {
            Invoke-SandboxCommand -Sandbox $sandbox 'echo abc | tr a-z A-Z && echo done' | Should -Be 'ABC', 'done'
        }

        It 'streams lines while the command runs' {
            $arrivals = Invoke-SandboxCommand -Sandbox $sandbox 'echo a; sleep 1; echo b' |
                ForEach-Object { [pscustomobject]@{ Line = $_; At = [datetime]::UtcNow } }
            $finished = [datetime]::UtcNow

            $arrivals.Line | Should -Be 'a', 'b'
            ($finished - $arrivals[0].At).TotalSeconds | Should -BeGreaterThan 0.7
        }

        It 'sends stderr to the information stream, not the output' {
            $output = Invoke-SandboxCommand -Sandbox $sandbox 'echo out; echo err >&2' -InformationVariable info 6>$null
            $output | Should -Be 'out'
            "$($info.MessageData)" | Should -Be 'err'
            $info[0].Tags | Should -Contain 'stderr'
        }

        It 'lets 6>&1 capture stderr beside stdout' {
            $all = Invoke-SandboxCommand -Sandbox $sandbox 'echo out; echo err >&2' 6>&1
            $records = @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })
            $records | Should -HaveCount 1
            "$($records[0].MessageData)" | Should -Be 'err'
            $all | Where-Object { $_ -is [string] } | Should -Be 'out'
        }

        It 'does not stop a script on stderr output, even with $ErrorActionPreference = Stop' {
            $ErrorActionPreference = 'Stop'
            $output = Invoke-SandboxCommand -Sandbox $sandbox 'echo before; echo warning >&2; echo after' 6>$null
            $output | Should -Be 'before', 'after'
        }
    }

    Context 'a slow consumer' {
        It 'gets every line, in order, from a command that ends long before the consumer does' {
            $count = 0
            $lines = Invoke-SandboxCommand -Sandbox $sandbox 'seq 1 20000' |
                ForEach-Object { $count++; if ($count % 2000 -eq 0) { Start-Sleep -Milliseconds 700 }; $_ }
            $LASTEXITCODE | Should -Be 0
            $lines | Should -HaveCount 20000
            $lines -join ',' | Should -BeExactly ((1..20000) -join ',')
        }

        It 'gets the last line after one long pause mid-stream' {
            $count = 0
            $lines = Invoke-SandboxCommand -Sandbox $sandbox 'sleep 1; seq 1 50000; echo END' |
                ForEach-Object { $count++; if ($count -eq 5000) { Start-Sleep -Seconds 4 }; $_ }
            $lines | Should -HaveCount 50001
            $lines[49999] | Should -Be '50000'
            $lines[-1] | Should -Be 'END'
        }

        It 'gets every line before a background process that holds the output open, and returns while it runs on' {
            $count = 0
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $lines = Invoke-SandboxCommand -Sandbox $sandbox -ArgumentList 'sh', '-c', 'seq 1 20000; (sleep 49 &); echo END' |
                ForEach-Object { $count++; if ($count % 5000 -eq 0) { Start-Sleep -Milliseconds 700 }; $_ }
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 30 -Because 'the background sleep of 49 s is not waited for'
            $lines | Should -HaveCount 20001
            $lines[-1] | Should -Be 'END'
            Invoke-SandboxCommand -Sandbox $sandbox 'ps -o args' | Where-Object { $_ -match '^sleep 49' } | Should -Not -BeNullOrEmpty
        }
    }

    Context 'a pipeline that stops early' {
        BeforeAll {
            # Command lines of the sandbox's processes that match the pattern (the ps that lists them excluded).
            function Get-SandboxProcess([string] $Pattern) {
                @(Invoke-SandboxCommand -Sandbox $sandbox 'ps -o args' | Where-Object { $_ -match $Pattern -and $_ -notmatch '^ps ' })
            }
        }

        It 'kills a shell loop once Select-Object -First 1 has its line' {
            Invoke-SandboxCommand -Sandbox $sandbox 'while :; do echo loop-41; done' | Select-Object -First 1 | Should -Be 'loop-41'
            Wait-Until -TimeoutSec 10 { (Get-SandboxProcess 'loop-41').Count -eq 0 } |
                Should -BeTrue -Because "the loop must not run on inside: $(Get-SandboxProcess 'loop-41')"
        }

        It 'kills yes, and whatever a command started, once the pipeline has what it wants' {
            Invoke-SandboxCommand -Sandbox $sandbox 'yes yes-42 | cat' | Select-Object -First 3 | Should -Be 'yes-42', 'yes-42', 'yes-42'
            Wait-Until -TimeoutSec 10 { (Get-SandboxProcess 'yes-42').Count -eq 0 } |
                Should -BeTrue -Because "yes must not run on inside: $(Get-SandboxProcess 'yes-42')"
        }

        It 'leaves no runaway process after several early stops' {
            foreach ($i in 1..3) { $null = Invoke-SandboxCommand -Sandbox $sandbox -ArgumentList 'yes', 'yes-43' | Select-Object -First 1 }
            Wait-Until -TimeoutSec 10 { (Get-SandboxProcess 'yes-43').Count -eq 0 } |
                Should -BeTrue -Because "no yes may run on inside: $(Get-SandboxProcess 'yes-43')"
        }
    }

    Context 'exit codes' {
        It 'sets $LASTEXITCODE to the exit code' {
            $global:LASTEXITCODE = 99
            Invoke-SandboxCommand -Sandbox $sandbox 'exit 3'
            $LASTEXITCODE | Should -Be 3
            Invoke-SandboxCommand -Sandbox $sandbox 'true'
            $LASTEXITCODE | Should -Be 0
        }

        It 'does not treat a non-zero exit as an error by default' {
            $ErrorActionPreference = 'Stop'
            $PSNativeCommandUseErrorActionPreference = $false
            { Invoke-SandboxCommand -Sandbox $sandbox 'exit 4' } | Should -Not -Throw
            $LASTEXITCODE | Should -Be 4
        }

        It 'makes a non-zero exit an error SandboxCommandFailed when $PSNativeCommandUseErrorActionPreference is set' {
            $ErrorActionPreference = 'Stop'
            $PSNativeCommandUseErrorActionPreference = $true
            $err = { Invoke-SandboxCommand -Sandbox $sandbox 'exit 3' } | Should -Throw -ErrorId 'SandboxCommandFailed*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidResult'
            $LASTEXITCODE | Should -Be 3
            { Invoke-SandboxCommand -Sandbox $sandbox 'exit 0' } | Should -Not -Throw
        }
    }

    Context 'how the command runs' {
        It '-ArgumentList runs an argv without a shell' {
            Invoke-SandboxCommand -Sandbox $sandbox -ArgumentList 'echo', '$HOME;x' | Should -Be '$HOME;x'
        }

        It 'runs in /workspace by default' {
            Invoke-SandboxCommand -Sandbox $sandbox 'pwd' | Should -Be '/workspace'
        }

        It '-WorkingDirectory sets the folder' {
            Invoke-SandboxCommand -Sandbox $sandbox 'pwd' -WorkingDirectory /tmp | Should -Be '/tmp'
        }

        It '-Environment sets variables for the command' {
            Invoke-SandboxCommand -Sandbox $sandbox 'echo "$GREETING"' -Environment @{ GREETING = 'hello world' } |
                Should -Be 'hello world'
            Invoke-SandboxCommand -Sandbox $sandbox 'echo "[$GREETING]"' | Should -Be '[]'
        }

        It '-User runs as that user' {
            Invoke-SandboxCommand -Sandbox $sandbox 'id -u' -User 1000 | Should -Be '1000'
            Invoke-SandboxCommand -Sandbox $sandbox 'id -u' | Should -Be '0'
        }

        It 'returns at once from a command that leaves a background process, which keeps running' {
            $elapsed = Measure-Command { Invoke-SandboxCommand -Sandbox $sandbox 'sleep 47 &' }
            $elapsed.TotalSeconds | Should -BeLessThan 1.5
            Invoke-SandboxCommand -Sandbox $sandbox 'ps' | Where-Object { $_ -match 'sleep 47' } | Should -Not -BeNullOrEmpty
        }
    }

    Context '-TimeoutSec' {
        It 'stops waiting, reports SandboxCommandTimeout and kills the process inside' {
            $started = [datetime]::UtcNow
            $err = { Invoke-SandboxCommand -Sandbox $sandbox 'sleep 37; echo never' -TimeoutSec 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'SandboxCommandTimeout*' -PassThru
            ([datetime]::UtcNow - $started).TotalSeconds | Should -BeLessThan 5
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'

            $stillRunning = { Invoke-SandboxCommand -Sandbox $sandbox 'ps' | Where-Object { $_ -match 'sleep 37' } }
            Wait-Until { -not (& $stillRunning) } -TimeoutSec 1 | Should -BeTrue -Because "ps shows: $(& $stillRunning)"
        }

        It 'marks the -PassThru result TimedOut' {
            $output = try {
                Invoke-SandboxCommand -Sandbox $sandbox 'echo started; sleep 38' -TimeoutSec 1 -PassThru -ErrorAction SilentlyContinue
            } catch { }
            $result = $output | Where-Object { $_ -is [Sandbox.SandboxCommandResult] }
            $result | Should -HaveCount 1
            $result.TimedOut | Should -BeTrue
            $result.StdOut | Should -Match 'started'
            $result.ExitCode | Should -Not -Be 0
        }
    }

    Context '-PassThru' {
        It 'also emits a SandboxCommandResult' {
            $output = Invoke-SandboxCommand -Sandbox $sandbox 'echo out; echo err >&2; exit 2' -PassThru 6>$null
            $output | Where-Object { $_ -is [string] } | Should -Be 'out'
            $result = $output | Where-Object { $_ -is [Sandbox.SandboxCommandResult] }
            $result | Should -HaveCount 1
            $result.ExitCode | Should -Be 2
            $result.StdOut.Trim() | Should -Be 'out'
            $result.StdErr.Trim() | Should -Be 'err'
            $result.Duration | Should -BeOfType ([timespan])
            $result.Duration | Should -BeGreaterThan ([timespan]::Zero)
            $result.TimedOut | Should -BeFalse
            $result.SandboxId | Should -Be $sandbox.Id
            $result.SandboxName | Should -Be $sandbox.Name
            $result.Command | Should -BeLike '*exit 2*'
        }
    }

    Context 'choosing the sandbox' {
        It 'takes the sandbox from the pipeline' {
            $sandbox | Invoke-SandboxCommand 'echo piped' | Should -Be 'piped'
        }

        It 'binds Id by property name' {
            [pscustomobject]@{ Id = $sandbox.Id } | Invoke-SandboxCommand 'echo by-id' | Should -Be 'by-id'
        }

        It 'binds Name by property name' {
            [pscustomobject]@{ Name = $sandbox.Name } | Invoke-SandboxCommand 'echo by-name' | Should -Be 'by-name'
        }

        It 'binds ProjectId by property name' {
            [pscustomobject]@{ ProjectId = $project } | Invoke-SandboxCommand 'echo by-project' | Should -Be 'by-project'
        }

        It 'works after Get-Sandbox -ProjectId' {
            Get-Sandbox -ProjectId $project | Invoke-SandboxCommand 'true'
            $LASTEXITCODE | Should -Be 0
            Get-Sandbox -ProjectId $project | Invoke-SandboxCommand 'hostname' |
                Should -Be (Get-ContainerInspect $sandbox.Id).Config.Hostname
        }

        It 'finds the sandbox by -Name and -Id' {
            Invoke-SandboxCommand -Name $sandbox.Name 'echo named' | Should -Be 'named'
            Invoke-SandboxCommand -Id $sandbox.Id 'echo by-id' | Should -Be 'by-id'
        }

        It 'runs once for each piped sandbox' {
            $second = New-Sandbox -Name (New-TestName 'exec2') -Environment @{ WHO = 'second' }
            $sandbox, $second | Invoke-SandboxCommand 'echo "${WHO:-first}"' | Should -Be 'first', 'second'
        }

        It 'reports SandboxNotFound for a name that does not exist' {
            $missing = New-TestName 'missing'
            $err = { Invoke-SandboxCommand -Name $missing 'true' -ErrorAction Stop } |
                Should -Throw -ErrorId 'SandboxNotFound*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.TargetObject | Should -Be $missing
        }
    }

    Context 'standard input' {
        It 'writes piped strings to the command''s stdin, each a line, with EOF at the end' {
            'hello' | Invoke-SandboxCommand -Sandbox $sandbox 'cat' | Should -Be 'hello'
            'b', 'a' | Invoke-SandboxCommand -Sandbox $sandbox 'sort' | Should -Be 'a', 'b'
            $LASTEXITCODE | Should -Be 0
        }

        It 'writes other objects as PowerShell turns them into strings, and bytes as they are' {
            1..3 | Invoke-SandboxCommand -Sandbox $sandbox 'cat' | Should -Be '1', '2', '3'
            [byte[]] (0x68, 0x69, 0x0a) | Invoke-SandboxCommand -Sandbox $sandbox 'od -An -tx1' | ForEach-Object Trim | Should -Be '68 69 0a'
        }

        It 'sends UTF-8 without a byte order mark' {
            'é€😀' | Invoke-SandboxCommand -Sandbox $sandbox 'od -An -tx1 | tr -d " \n"; echo' |
                Should -Be 'c3a9e282acf09f98800a'
        }

        It 'runs the command with an empty stdin when nothing is piped in' {
            @() | Invoke-SandboxCommand -Sandbox $sandbox 'wc -c' | ForEach-Object Trim | Should -Be '0'
        }

        It 'streams a large input in order, without waiting for all of it first' {
            1..300000 | Invoke-SandboxCommand -Sandbox $sandbox 'wc -l' | ForEach-Object Trim | Should -Be '300000'
            1..300000 | Invoke-SandboxCommand -Sandbox $sandbox 'md5sum' | ForEach-Object { ($_ -split ' ')[0] } |
                Should -Be ((Get-FileHash -Algorithm MD5 -InputStream ([IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes(((1..300000) -join "`n") + "`n")))).Hash.ToLowerInvariant())
        }

        It 'returns when the command ends without reading its input, and drops the rest' {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            1..300000 | Invoke-SandboxCommand -Sandbox $sandbox 'echo not-reading' | Should -Be 'not-reading'
            1..300000 | Invoke-SandboxCommand -Sandbox $sandbox 'head -2' | Should -Be '1', '2'
            $LASTEXITCODE | Should -Be 0
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 60
        }

        It 'does not attach stdin when the sandbox comes from the pipeline: a Sandbox object is never written to it' {
            $sandbox | Invoke-SandboxCommand 'cat; echo after-cat' | Should -Be 'after-cat'
        }

        It 'refuses a Sandbox object piped in when -Sandbox already names one' {
            $err = { $sandbox | Invoke-SandboxCommand -Sandbox $sandbox 'cat' -ErrorAction Stop } | Should -Throw -ErrorId 'SandboxAsStandardInput*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }

        It '-StandardInput writes its strings as lines' {
            Invoke-SandboxCommand -Sandbox $sandbox 'sort' -StandardInput 'b', 'a' | Should -Be 'a', 'b'
            Invoke-SandboxCommand -Sandbox $sandbox 'wc -c' -StandardInput '' | ForEach-Object Trim | Should -Be '1'
        }

        It '-StandardInputPath sends a file''s bytes exactly, to every named sandbox' {
            $file = Join-Path $TestDrive 'input.bin'
            $data = [byte[]]::new(70000); [Random]::new(5).NextBytes($data); for ($i = 0; $i -lt 256; $i++) { $data[$i] = [byte]$i }
            [IO.File]::WriteAllBytes($file, $data)
            $expected = (Get-FileHash -Algorithm SHA256 -LiteralPath $file).Hash.ToLowerInvariant()
            $second = New-Sandbox -Name (New-TestName 'stdin2')
            $sums = Invoke-SandboxCommand -Sandbox $sandbox, $second 'sha256sum' -StandardInputPath (Get-Item -LiteralPath $file)
            $sums | ForEach-Object { ($_ -split ' ')[0] } | Should -Be $expected, $expected
        }

        It 'reports a missing -StandardInputPath file' {
            { Invoke-SandboxCommand -Sandbox $sandbox 'cat' -StandardInputPath (Join-Path $TestDrive 'none.txt') -ErrorAction Stop } |
                Should -Throw -ErrorId 'PathNotFound*'
        }

        It 'takes standard input one way only' {
            { 'x' | Invoke-SandboxCommand -Sandbox $sandbox 'cat' -StandardInput 'y' -ErrorAction Stop } | Should -Throw -ErrorId 'StandardInputConflict*'
            { Invoke-SandboxCommand -Sandbox $sandbox 'cat' -StandardInput 'y' -StandardInputPath $PSCommandPath -ErrorAction Stop } |
                Should -Throw -ErrorId 'StandardInputConflict*'
        }

        It 'feeds piped input to one sandbox only' {
            $other = New-Sandbox -Name (New-TestName 'stdin3')
            { 'x' | Invoke-SandboxCommand -Sandbox $sandbox, $other 'cat' -ErrorAction Stop } | Should -Throw -ErrorId 'StandardInputNeedsOneSandbox*'
        }

        It 'passes piped input to a job' {
            'b', 'a' | Invoke-SandboxCommand -Sandbox $sandbox 'sort' -AsJob | Receive-Job -Wait -AutoRemoveJob | Should -Be 'a', 'b'
        }
    }

    Context 'stderr redirected as for a native command' {
        It '2>&1 puts stderr lines into the output as error records whose text is the line' {
            $all = Invoke-SandboxCommand -Sandbox $sandbox 'echo out; echo err1 >&2; echo err2 >&2'  2>&1
            $all | Should -HaveCount 3
            @($all | Where-Object { $_ -is [string] }) | Should -Be 'out'
            $records = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $records | ForEach-Object ToString | Should -Be 'err1', 'err2'
            $records[0].FullyQualifiedErrorId | Should -Be 'NativeCommandError'
            ($records | Out-String -Stream | Where-Object { $_ }) | Should -Be 'err1', 'err2' -Because 'the default view prints the bare line'
        }

        It '2> writes the stderr lines to the file, plainly' {
            $file = Join-Path $TestDrive 'err.txt'
            Invoke-SandboxCommand -Sandbox $sandbox 'echo out; echo e1 >&2; echo e2 >&2' 2> $file | Should -Be 'out'
            Get-Content -LiteralPath $file | Should -Be 'e1', 'e2'
        }

        It '2>$null drops them' {
            $all = & { Invoke-SandboxCommand -Sandbox $sandbox 'echo out; echo err >&2' 2>$null } 6>&1
            $all | Should -Be 'out'
        }

        It 'never stops a script under $ErrorActionPreference = ''Stop'', nor fills $Error' {
            $ErrorActionPreference = 'Stop'
            $errorsBefore = $Error.Count
            $all = Invoke-SandboxCommand -Sandbox $sandbox 'echo before; echo warn >&2; echo after' 2>&1
            $all | ForEach-Object ToString | Sort-Object | Should -Be 'after', 'before', 'warn'
            Invoke-SandboxCommand -Sandbox $sandbox 'echo warn >&2; echo after' 2> (Join-Path $TestDrive 'stop.txt') | Should -Be 'after'
            $Error.Count | Should -Be $errorsBefore
        }

        It 'shows stderr on the console, plainly and not in $Error, when it is not redirected' {
            $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'console')
            $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
Invoke-SandboxCommand -Id $($sandbox.Id) 'echo on-stdout; echo on-stderr >&2'
"errors: `$(`$Error.Count)"
"@
            $child.WaitForExit(60000) | Should -BeTrue
            $out = @(Get-Content -LiteralPath (Get-ChildItem -LiteralPath $work -Filter '*.ps1.out').FullName)
            $out | Sort-Object | Should -Be 'errors: 0', 'on-stderr', 'on-stdout' -Because (Get-ChildOutput -WorkFolder $work | Out-String)
        }
    }

    Context 'failing commands' {
        It '-ErrorOnExitCode makes a non-zero exit the error SandboxCommandFailed with the last lines of stderr' {
            $err = { Invoke-SandboxCommand -Sandbox $sandbox 'echo first >&2; echo last words >&2; exit 2' -ErrorOnExitCode -ErrorAction Stop 2>$null } |
                Should -Throw -ErrorId 'SandboxCommandFailed*' -PassThru
            $LASTEXITCODE | Should -Be 2
            $err.CategoryInfo.Category | Should -Be 'InvalidResult'
            $err.Exception.ExitCode | Should -Be 2
            $err.Exception.StdErrTail | Should -Be 'first', 'last words'
            $err.Exception.Message | Should -BeLike "*exited with code 2*last words*"
            $err.TargetObject.Id | Should -Be $sandbox.Id
        }

        It 'stops a script under $ErrorActionPreference = ''Stop'', and keeps only the last ten lines of stderr' {
            $ErrorActionPreference = 'Stop'
            $err = $null
            try { Invoke-SandboxCommand -Sandbox $sandbox 'seq 1 30 >&2; exit 5' -ErrorOnExitCode 2>$null; $reached = $true } catch { $err = $_ }
            $reached | Should -BeNullOrEmpty
            $err.Exception.StdErrTail | Should -Be (21..30 | ForEach-Object ToString)
        }

        It '-ErrorOnExitCode writes nothing for exit code 0' {
            $ErrorActionPreference = 'Stop'
            Invoke-SandboxCommand -Sandbox $sandbox 'echo fine >&2; echo ok' -ErrorOnExitCode 2>$null | Should -Be 'ok'
        }

        It 'says so when the failed command wrote nothing to stderr' {
            $err = { Invoke-SandboxCommand -Sandbox $sandbox 'exit 9' -ErrorOnExitCode -ErrorAction Stop } | Should -Throw -PassThru
            $err.Exception.Message | Should -BeLike '*exited with code 9 and wrote nothing to stderr*'
        }
    }

    Context '$LASTEXITCODE of a command that did not end by itself' {
        It 'is 124 after -TimeoutSec' {
            $global:LASTEXITCODE = 99
            Invoke-SandboxCommand -Sandbox $sandbox 'sleep 39' -TimeoutSec 1 -ErrorAction SilentlyContinue
            $LASTEXITCODE | Should -Be 124
        }

        It 'is 130 after Ctrl+C (the pipeline stopped)' {
            $runspace = [runspacefactory]::CreateRunspace()
            $runspace.Open()
            $ps = [powershell]::Create()
            $ps.Runspace = $runspace
            try {
                $null = $ps.AddScript("Import-Module '$env:SANDBOX_MODULE_PATH'; `$global:LASTEXITCODE = 99; Invoke-SandboxCommand -Id $($sandbox.Id) 'echo started; sleep 41'")
                $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
                $handle = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
                Wait-Until { $output.Count -gt 0 -or $handle.IsCompleted } -TimeoutSec 30 | Should -BeTrue
                $output[0] | Should -Be 'started'
                $ps.Stop()
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                $ps.Commands.Clear()
                $ps.AddScript('$LASTEXITCODE').Invoke() | Should -Be 130
            }
            finally { $ps.Dispose(); $runspace.Dispose() }
            Wait-Until { -not (Invoke-SandboxCommand -Sandbox $sandbox 'ps -o args' | Where-Object { $_ -match '^sleep 41' }) } -TimeoutSec 10 |
                Should -BeTrue -Because 'the stopped command is killed inside'
        }

        It 'is 130 after Ctrl+C while piped input is still coming, and the command inside is killed' {
            $runspace = [runspacefactory]::CreateRunspace()
            $runspace.Open()
            $ps = [powershell]::Create()
            $ps.Runspace = $runspace
            try {
                $null = $ps.AddScript("Import-Module '$env:SANDBOX_MODULE_PATH'; `$global:LASTEXITCODE = 99; & { 'first-line'; while (`$true) { Start-Sleep -Milliseconds 50 } } | Invoke-SandboxCommand -Id $($sandbox.Id) 'cat > /tmp/stdin-seen-43'")
                $handle = $ps.BeginInvoke()
                Wait-Until { (docker exec $sandbox.Id cat /tmp/stdin-seen-43 2>$null) -eq 'first-line' -or $handle.IsCompleted } -TimeoutSec 30 |
                    Should -BeTrue
                $handle.IsCompleted | Should -BeFalse -Because 'cat waits for the rest of its input'
                $ps.Stop()
                $ps.Commands.Clear()
                $null = $ps.AddScript('$LASTEXITCODE')
                # Stopped while upstream ran, the cmdlet sets it as the stopped pipeline is disposed, which Stop() may not wait for.
                Wait-Until { $ps.Invoke() -eq 130 } -TimeoutSec 10 | Should -BeTrue -Because "`$LASTEXITCODE is $($ps.Invoke())"
            }
            finally { $ps.Dispose(); $runspace.Dispose() }
            Wait-Until { -not (Invoke-SandboxCommand -Sandbox $sandbox 'ps -o args' | Where-Object { $_ -match '^cat$|stdin-seen-43' }) } -TimeoutSec 10 |
                Should -BeTrue -Because 'the stopped command is killed inside'
        }

        It 'is 141 when the pipeline ended early downstream (Select-Object -First)' {
            $global:LASTEXITCODE = 99
            Invoke-SandboxCommand -Sandbox $sandbox 'yes' | Select-Object -First 1 | Should -Be 'y'
            $LASTEXITCODE | Should -Be 141
        }
    }
}
