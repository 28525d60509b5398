#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Real Python, Node and Perl programs in the polyglot image (Debian with python3, nodejs and perl), through
# Invoke-SandboxCode, and the language table behind it (Get-/Register-SandboxLanguage).

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'code'

    $poly = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }
    docker image inspect $poly *> $null
    if ($LASTEXITCODE -ne 0) { throw "The polyglot image '$poly' is missing; build it with tests/setup/New-PolyglotImage.sh." }

    Register-SandboxLanguage -Reset
    $sandbox = New-Sandbox -Name (New-TestName 'poly') -Image $poly

    # The managed containers this process owns, by id: what a throwaway sandbox must not add to.
    function Get-OwnedContainer {
        @(docker ps -aq --no-trunc --filter 'label=io.sandbox.managed=true' --filter "label=io.sandbox.owner=$([Environment]::MachineName):$PID")
    }
    function Get-NewOwnedContainer($Before) { @(Get-OwnedContainer | Where-Object { $_ -notin $Before }) }
    # Command lines of the sandbox's processes that run a code file.
    function Get-CodeProcess([Parameter(Mandatory)] $Sandbox) {
        docker exec $Sandbox.Id sh -c 'for p in /proc/[0-9]*; do tr "\0" " " < $p/cmdline 2>/dev/null; echo; done' |
            Where-Object { $_ -match '\.sandbox-code/' }
    }
    function Get-CodeFolderListing([Parameter(Mandatory)] $Sandbox) {
        @(docker exec $Sandbox.Id sh -c 'ls -A /tmp/.sandbox-code 2>/dev/null')
    }
}

AfterAll {
    Register-SandboxLanguage -Reset
    Complete-SandboxTest
}

Describe 'Invoke-SandboxCode' {

    Context 'standard input, stderr and failures as for Invoke-SandboxCommand' {
        It 'reads -StandardInput and -StandardInputPath on stdin' {
            $code = "import sys`nprint('|'.join(line.strip() for line in sys.stdin))"
            $sandbox | Invoke-SandboxCode -Language python -Code $code -StandardInput 'a', 'b' | Should -Be 'a|b'
            $file = Join-Path $TestDrive 'stdin.txt'
            [IO.File]::WriteAllText($file, "x`ny`n")
            $sandbox | Invoke-SandboxCode -Language python -Code $code -StandardInputPath $file | Should -Be 'x|y'
        }

        It '2>&1 brings a traceback along as error records whose text is the line' {
            $all = $sandbox | Invoke-SandboxCode -Language python -Code "print('out')`nraise SystemExit('bad thing')" 2>&1
            @($all | Where-Object { $_ -is [string] }) | Should -Be 'out'
            @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object ToString) | Should -Be 'bad thing'
        }

        It '-ErrorOnExitCode makes a traceback the error SandboxCommandFailed with its last lines' {
            $err = { $sandbox | Invoke-SandboxCode -Language python -Code 'import json; json.loads("{oops")' -ErrorOnExitCode -ErrorAction Stop 2>$null } |
                Should -Throw -ErrorId 'SandboxCommandFailed*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidResult'
            $err.Exception.ExitCode | Should -Be 1
            $err.Exception.StdErrTail[-1] | Should -BeLike 'json.decoder.JSONDecodeError*'
            $LASTEXITCODE | Should -Be 1
        }
    }

    Context 'Python in a sandbox' {
        It 'writes stdout lines to the pipeline and stderr to the information stream' {
            $code = "import sys`nprint('one')`nprint('two')`nprint('oops', file=sys.stderr)"
            $out = $sandbox | Invoke-SandboxCode -Language python -Code $code -InformationVariable info 6>$null
            $out | Should -Be 'one', 'two'
            "$($info.MessageData)" | Should -Be 'oops'
            $info[0].Tags | Should -Contain 'stderr'
        }

        It 'reports the exit code in $LASTEXITCODE and the -PassThru result' {
            $out = $sandbox | Invoke-SandboxCode -Language py -Code "print('bye')`nraise SystemExit(3)" -PassThru
            $LASTEXITCODE | Should -Be 3
            $result = $out[-1]
            $result | Should -BeOfType ([Sandbox.SandboxCommandResult])
            $result.ExitCode | Should -Be 3
            $result.Succeeded | Should -BeFalse
            $result.StdOut | Should -Be "bye`n"
            $result.SandboxName | Should -Be $sandbox.Name
            $result.Command | Should -Be 'python3 <code>'
        }

        It 'gives the code its arguments as they are, with no shell in between' {
            $code = "import sys, json`nprint(json.dumps(sys.argv[1:]))"
            $json = $sandbox | Invoke-SandboxCode -Language python -Code $code -ArgumentList 'one', 'two words', '$HOME; echo no', '*'
            $json | ConvertFrom-Json | Should -Be 'one', 'two words', '$HOME; echo no', '*'
        }

        It 'passes unicode through both ways' {
            $text = 'héllo wörld ✓ 日本語 🐍'
            $sandbox | Invoke-SandboxCode -Language python -Code "print('$text')" | Should -BeExactly $text
            $sandbox | Invoke-SandboxCode -Language python -Code 'import sys; print(len(sys.argv[1]))' -ArgumentList $text |
                Should -Be 19
        }

        It 'honours -WorkingDirectory, -Environment and -User' {
            $code = "import os`nprint(os.getcwd(), os.environ['GREETING'], os.getuid())"
            $sandbox | Invoke-SandboxCode -Language python -Code $code -WorkingDirectory /tmp -Environment @{ GREETING = 'hi' } -User sandbox |
                Should -Be '/tmp hi 1000'
        }

        It 'runs a traceback as a failure with exit code 1 and the traceback on stderr' {
            $result = $sandbox | Invoke-SandboxCode -Language python -Code "def f():`n    raise ValueError('bad value')`nf()" -PassThru 6>$null
            $result.ExitCode | Should -Be 1
            $result.StdErr | Should -Match 'ValueError: bad value'
            $result.StdErr | Should -Match 'Traceback'
        }

        It 'kills code that runs longer than -TimeoutSec' {
            $result = $sandbox | Invoke-SandboxCode -Language python -Code "import time`nprint('start', flush=True)`ntime.sleep(60)" -TimeoutSec 2 -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
            $result[0] | Should -Be 'start'
            $result[-1].TimedOut | Should -BeTrue
            $result[-1].Duration.TotalSeconds | Should -BeLessThan 20
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCommandTimeout,*'
            Wait-Until -TimeoutSec 10 { -not (Get-CodeProcess $sandbox) } | Should -BeTrue -Because 'the code is killed'
            Get-CodeFolderListing $sandbox | Should -BeNullOrEmpty
        }

        It 'gives a slow consumer every line the code printed' {
            $count = 0
            $lines = $sandbox | Invoke-SandboxCode -Language python -Code "for i in range(1, 20001): print(i)" |
                ForEach-Object { $count++; if ($count % 2000 -eq 0) { Start-Sleep -Milliseconds 700 }; $_ }
            $lines | Should -HaveCount 20000
            $lines -join ',' | Should -BeExactly ((1..20000) -join ',')
        }

        It 'kills the code and removes its code file when Select-Object -First 1 stops the pipeline' {
            $sandbox | Invoke-SandboxCode -Language python -Code "import itertools`nfor i in itertools.count(): print('forever', i)" |
                Select-Object -First 1 | Should -Be 'forever 0'
            Wait-Until -TimeoutSec 10 { -not (Get-CodeProcess $sandbox) } | Should -BeTrue -Because "the code must not run on inside: $(Get-CodeProcess $sandbox)"
            Get-CodeFolderListing $sandbox | Should -BeNullOrEmpty
        }

        It 'removes its code file after each run and keeps the code folder unlistable to other users' {
            $sandbox | Invoke-SandboxCode -Language python -Code 'print(1)' | Should -Be 1
            $null = $sandbox | Invoke-SandboxCode -Language python -Code 'raise SystemExit(4)'
            Get-CodeFolderListing $sandbox | Should -BeNullOrEmpty
            docker exec $sandbox.Id stat -c '%a %U' /tmp/.sandbox-code | Should -Be '1733 root'
            docker exec -u 1000 $sandbox.Id ls /tmp/.sandbox-code 2>&1 | Out-String | Should -Match 'Permission denied'
        }

        It 'runs code in the sandboxes named by -Name' {
            Invoke-SandboxCode -Name $sandbox.Name -Language python -Code 'import socket; print(socket.gethostname())' |
                Should -Be $sandbox.Id.Substring(0, 12)
        }
    }

    Context 'Node in a sandbox' {
        It 'runs JavaScript with arguments, stderr and an exit code' {
            $code = "console.log('args:' + process.argv.slice(2).join('|'));`nconsole.error('to stderr');`nprocess.exitCode = 5;"
            $out = $sandbox | Invoke-SandboxCode -Language javascript -Code $code -ArgumentList 'a b', 'c' -PassThru -InformationVariable info 6>$null
            $out[0] | Should -Be 'args:a b|c'
            $out[-1].ExitCode | Should -Be 5
            $LASTEXITCODE | Should -Be 5
            "$($info.MessageData)" | Should -Be 'to stderr'
        }

        It 'prints unicode from node' {
            $sandbox | Invoke-SandboxCode -Language node -Code "console.log('naïve ☕ ' + [...'日本'].length)" | Should -BeExactly 'naïve ☕ 2'
        }
    }

    Context '-Path' {
        It 'runs a local .py file, inferring Python from the extension' {
            $file = Join-Path $TestDrive 'hello.py'
            Set-Content -LiteralPath $file -Value "import sys`nprint('hello from', sys.argv[0].endswith('.py'), sys.argv[1])" -Encoding utf8NoBOM
            $result = $sandbox | Invoke-SandboxCode -Path $file -ArgumentList 'arg' -PassThru
            $result[0] | Should -Be 'hello from True arg'
            $result[-1].Command | Should -Be 'python3 hello.py arg'
        }

        It 'runs a local .js file, inferring Node, from a path relative to the current location' {
            Push-Location $TestDrive
            try {
                Set-Content -LiteralPath 'sum.js' -Value 'console.log(process.argv.slice(2).map(Number).reduce((a, b) => a + b, 0))'
                $sandbox | Invoke-SandboxCode -Path ./sum.js -ArgumentList 1, 2, 39 | Should -Be 42
            } finally { Pop-Location }
        }

        It 'lets -Language override the extension' {
            $file = Join-Path $TestDrive 'script.txt'
            Set-Content -LiteralPath $file -Value 'print(6 * 7)'
            $sandbox | Invoke-SandboxCode -Path $file -Language python | Should -Be 42
        }

        It 'says PathNotFound for a file that does not exist' {
            { $sandbox | Invoke-SandboxCode -Path (Join-Path $TestDrive 'missing.py') } |
                Should -Throw -ErrorId 'PathNotFound,Sandbox.Commands.InvokeSandboxCodeCommand'
        }

        It 'says which languages exist when the extension is unknown' {
            $file = Join-Path $TestDrive 'prog.cbl'
            Set-Content -LiteralPath $file -Value 'DISPLAY "HI".'
            $err = { $sandbox | Invoke-SandboxCode -Path $file } | Should -Throw -ErrorId 'UnknownLanguage,Sandbox.Commands.InvokeSandboxCodeCommand' -PassThru
            $err.Exception.Message | Should -Match "'\.cbl'"
            $err.Exception.Message | Should -Match 'python \(py, python3\)'
        }
    }

    Context 'errors' {
        It 'refuses an unknown language, listing the known ones' {
            $err = { $sandbox | Invoke-SandboxCode -Language cobol -Code 'DISPLAY "HI".' } |
                Should -Throw -ErrorId 'UnknownLanguage,Sandbox.Commands.InvokeSandboxCodeCommand' -PassThru
            $err.Exception.Message | Should -Match "no language 'cobol'"
            $err.Exception.Message | Should -Match 'node \(javascript, js, nodejs\)'
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'names the interpreter and the image when the image lacks the interpreter' {
            $busybox = New-Sandbox -Name (New-TestName 'bare') -Image (Get-TestImage)
            try {
                $out = $busybox | Invoke-SandboxCode -Language python -Code 'print(1)' -ErrorVariable err -ErrorAction SilentlyContinue
                $out | Should -BeNullOrEmpty
                $err | Should -HaveCount 1
                $err[0].FullyQualifiedErrorId | Should -Be 'LanguageRuntimeNotFound,Sandbox.Commands.InvokeSandboxCodeCommand'
                $err[0].Exception.Message | Should -Match "'python3'"
                $err[0].Exception.Message | Should -Match ([regex]::Escape((Get-TestImage)))
                $err[0].ErrorDetails.RecommendedAction | Should -Match 'Register-SandboxLanguage'
                Get-CodeFolderListing $busybox | Should -BeNullOrEmpty
            } finally { $busybox | Stop-Sandbox }
        }

        It 'recognises a launcher''s exit code 127 for a missing interpreter' {
            Register-SandboxLanguage -Name ruby -RunCommand '/usr/bin/env', 'ruby', '{file}'
            try {
                $sandbox | Invoke-SandboxCode -Language ruby -Code 'puts 1' -ErrorVariable err -ErrorAction SilentlyContinue 6>$null
                $err[0].FullyQualifiedErrorId | Should -BeLike 'LanguageRuntimeNotFound,*'
                $err[0].Exception.Message | Should -Match "'ruby'"
            } finally { Register-SandboxLanguage -Reset }
        }

        It 'needs either -Code or -Path, and -Language with -Code' {
            { $sandbox | Invoke-SandboxCode -Language python } | Should -Throw -ErrorId 'CodeRequired,*'
            { $sandbox | Invoke-SandboxCode -Language python -Code 'print(1)' -Path x.py } | Should -Throw -ErrorId 'CodeAndPath,*'
            { $sandbox | Invoke-SandboxCode -Code 'print(1)' } | Should -Throw -ErrorId 'LanguageRequired,*'
        }
    }

    Context 'read-only sandboxes' {
        It 'writes the code into the /tmp tmpfs of a sandbox with a read-only root' {
            $readOnly = New-Sandbox -Name (New-TestName 'ro') -Image $poly -ReadOnly
            try {
                $code = "import sys`nprint('ro', open(sys.argv[0]).read().count('ro'), sys.argv[1])`n# ünïcode ✓"
                $readOnly | Invoke-SandboxCode -Language python -Code $code -ArgumentList x | Should -Be 'ro 2 x'
                $readOnly | Invoke-SandboxCode -Language python -Code ('x = "' + ('a' * 100000) + '"' + "`nprint(len(x))") | Should -Be 100000
                Get-CodeFolderListing $readOnly | Should -BeNullOrEmpty
            } finally { $readOnly | Stop-Sandbox }
        }
    }

    Context 'without a sandbox' {
        It 'runs the code in a throwaway sandbox of -Image and leaves no container behind' {
            $before = Get-OwnedContainer
            $result = Invoke-SandboxCode -Language python -Code "import sys`nprint(sys.version_info[0])`nsys.exit(2)" -Image $poly -PassThru
            $result[0] | Should -Be 3
            $result[-1].ExitCode | Should -Be 2
            $LASTEXITCODE | Should -Be 2
            Test-ContainerExists $result[-1].SandboxId | Should -BeFalse
            Get-NewOwnedContainer $before | Should -BeNullOrEmpty
        }

        It 'runs a -Path file in the image of its language, and removes the sandbox when the interpreter is missing' {
            $before = Get-OwnedContainer
            $file = Join-Path $TestDrive 'where.js'
            Set-Content -LiteralPath $file -Value 'console.log(require("os").platform())'
            Invoke-SandboxCode -Path $file -Image $poly | Should -Be 'linux'
            Invoke-SandboxCode -Path $file -Image (Get-TestImage) -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'LanguageRuntimeNotFound,*'
            Get-NewOwnedContainer $before | Should -BeNullOrEmpty
        }

        It 'removes the throwaway sandbox when the run is stopped (Ctrl+C)' {
            $before = Get-OwnedContainer
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript('param($Module, $Image) Import-Module $Module; Invoke-SandboxCode -Language python -Image $Image -Code "import time`nprint(''started'', flush=True)`ntime.sleep(120)"').
                    AddArgument((Get-SandboxModulePath)).AddArgument($poly)
                $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
                $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
                Wait-Until -TimeoutSec 60 { $output.Count -gt 0 } | Should -BeTrue -Because 'the code starts'
                $output[0] | Should -Be 'started'
                Get-NewOwnedContainer $before | Should -HaveCount 1
                $ps.Stop()
                Wait-Until -TimeoutSec 20 { (Get-NewOwnedContainer $before).Count -eq 0 } | Should -BeTrue -Because 'stopping removes the sandbox'
            } finally { $ps.Dispose() }
        }

        It 'runs as a job that makes and removes its own sandbox' {
            $before = Get-OwnedContainer
            $job = Invoke-SandboxCode -Language python -Code 'import sys; print("job", sys.argv[1])' -ArgumentList x -Image $poly -AsJob
            $job | Should -BeOfType ([System.Management.Automation.Job])
            $job | Receive-Job -Wait -AutoRemoveJob | Should -Be 'job x'
            Get-NewOwnedContainer $before | Should -BeNullOrEmpty
        }

        It 'uses the image a registered language names' {
            Register-SandboxLanguage -Name python -Image $poly
            try {
                Invoke-SandboxCode -Language python3 -Code 'print("from the registered image")' | Should -Be 'from the registered image'
            } finally { Register-SandboxLanguage -Reset }
        }

        It 'reports an image that cannot be had, and leaves nothing behind' {
            $before = Get-OwnedContainer
            Invoke-SandboxCode -Language python -Code 'print(1)' -Image 'sandbox-local/no-such-image:1' -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -Not -BeNullOrEmpty
            Get-NewOwnedContainer $before | Should -BeNullOrEmpty
        }
    }

    Context 'a user-registered language' {
        AfterAll { Register-SandboxLanguage -Reset }

        It 'runs Perl once registered, by name, alias and extension' {
            Register-SandboxLanguage -Name perl -Extension .pl -Image $poly -RunCommand perl, '{file}' -Alias pl
            $sandbox | Invoke-SandboxCode -Language perl -Code 'print "perl says ", join("+", @ARGV), "\n"; exit 7' -ArgumentList 1, 2 | Should -Be 'perl says 1+2'
            $LASTEXITCODE | Should -Be 7
            $file = Join-Path $TestDrive 'count.pl'
            Set-Content -LiteralPath $file -Value 'print scalar(@ARGV), "\n";'
            $sandbox | Invoke-SandboxCode -Path $file -ArgumentList a, b, c | Should -Be 3
            Invoke-SandboxCode -Language pl -Code 'print "one-shot\n"' | Should -Be 'one-shot'
        }

        It 'runs a language whose run command goes through a shell' {
            Register-SandboxLanguage -Name upper -Extension .up -Image $poly -RunCommand 'sh', '-c', 'tr a-z A-Z < "$0"; echo "$@"', '{file}'
            $sandbox | Invoke-SandboxCode -Language upper -Code "shout`n" -ArgumentList 'as', 'is' | Should -Be 'SHOUT', 'as is'
        }
    }

    Context 'a Python web server' {
        BeforeAll {
            $web = New-Sandbox -Name (New-TestName 'web') -Image $poly -Port 8000
            $server = @'
import http.server, json

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "greeting": "hello from python"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

print("serving", flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
'@
            $job = $web | Invoke-SandboxCode -Language python -Code $server -AsJob
        }

        AfterAll {
            if ($job) { $job | Stop-Job; $job | Remove-Job -Force }
            if ($web) { $web | Stop-Sandbox }
        }

        It 'serves a known body on the published port' {
            $web.Ports[0].ContainerPort | Should -Be 8000
            $url = $web.Ports[0].Url
            $url | Should -Match '^http://(127\.0\.0\.1|localhost):\d+'
            $response = Invoke-WebRequestWithRetry -Uri "$($url.TrimEnd('/'))/check" -TimeoutSec 30
            $response.StatusCode | Should -Be 200
            $body = ConvertTo-Text $response.Content | ConvertFrom-Json
            $body.greeting | Should -Be 'hello from python'
            $body.path | Should -Be '/check'
        }

        It 'stops the server with the job, and removes its code file' {
            $job | Receive-Job 6>$null | Should -Contain 'serving'
            $job | Stop-Job
            Wait-Until -TimeoutSec 10 { $job.State -eq 'Stopped' } | Should -BeTrue
            Wait-Until -TimeoutSec 10 { -not (Get-CodeProcess $web) } | Should -BeTrue
            Get-CodeFolderListing $web | Should -BeNullOrEmpty
        }
    }
}

Describe 'Get-SandboxLanguage' {
    BeforeAll { Register-SandboxLanguage -Reset }

    It 'lists the built-in languages in detection order, the shell fallback last' {
        $all = Get-SandboxLanguage
        $all[0] | Should -BeOfType ([Sandbox.Languages.LanguageDefinition])
        $all.Name | Should -Contain 'python'
        $all.Name | Should -Contain 'node'
        $all[-1].Name | Should -Be 'shell'
    }

    It 'finds languages by name or alias, with wildcards' {
        (Get-SandboxLanguage -Name js).Name | Should -Be 'node'
        (Get-SandboxLanguage py*).Name | Should -Be 'python'
        @(Get-SandboxLanguage -Name 'nothing*') | Should -BeNullOrEmpty
        'python', 'go' | Get-SandboxLanguage | ForEach-Object Name | Should -Be 'python', 'go'
    }

    It 'says UnknownLanguage for a name that matches nothing' {
        Get-SandboxLanguage -Name cobol -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'UnknownLanguage,Sandbox.Commands.GetSandboxLanguageCommand'
    }

    It 'shows a table of name, aliases, extension and image, and the run command in a list' {
        $text = Get-SandboxLanguage python | Format-Table | Out-String -Width 200
        $text | Should -Match 'Name\s+Aliases\s+Extension\s+Image'
        $text | Should -Match 'python\s+py, python3\s+\.py\s+python:3\.12-slim'
        Get-SandboxLanguage python | Format-List | Out-String -Width 200 | Should -Match 'RunCommand\s+:\s+\{python3, \{file\}\}'
    }

    It 'completes language names and aliases' {
        $line = 'Invoke-SandboxCode -Language java'
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $completions | Should -Contain 'java'
        $completions | Should -Contain 'javascript'
    }
}

Describe 'Register-SandboxLanguage' {
    BeforeEach { Register-SandboxLanguage -Reset }
    AfterAll { Register-SandboxLanguage -Reset }

    It 'adds a language with all its fields' {
        $added = Register-SandboxLanguage -Name lua -Extension .lua -Image 'lua:5.4' -RunCommand lua, '{file}' -Alias luajit -DetectFile '*.rockspec' -BuildImage 'lua:5.4-dev' -InstallCommand 'luarocks install --only-deps *.rockspec' -BuildEnvironment @{ LUA_INIT = '' } -PassThru
        $added.Name | Should -Be 'lua'
        $lua = Get-SandboxLanguage luajit
        $lua.Extension | Should -Be '.lua'
        $lua.Image | Should -Be 'lua:5.4'
        $lua.RunCommand | Should -Be 'lua', '{file}'
        $lua.DetectFiles | Should -Be '*.rockspec'
        $lua.EffectiveBuildImage | Should -Be 'lua:5.4-dev'
        $lua.InstallCommand | Should -Be 'luarocks install --only-deps *.rockspec'
        $lua.BuildEnvironment.Keys | Should -Be 'LUA_INIT'
        (Get-SandboxLanguage)[-2].Name | Should -Be 'lua' -Because 'new languages detect before the shell fallback'
    }

    It 'changes only the fields given of a known language, named by its name or an alias' {
        Register-SandboxLanguage -Name py -Image $poly
        $python = Get-SandboxLanguage python
        $python.Image | Should -Be $poly
        $python.Aliases | Should -Be 'py', 'python3'
        $python.RunCommand | Should -Be 'python3', '{file}'
    }

    It 'registers a piped language object' {
        $copy = Get-SandboxLanguage node
        $copy.Image = $poly
        $copy | Register-SandboxLanguage
        (Get-SandboxLanguage node).Image | Should -Be $poly
    }

    It 'refuses a run command without {file}' {
        Register-SandboxLanguage -Name lua -Extension .lua -Image 'lua:5.4' -RunCommand lua, 'main.lua' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidLanguageDefinition,Sandbox.Commands.RegisterSandboxLanguageCommand'
        $err[0].Exception.Message | Should -Match '\{file\}'
        Get-SandboxLanguage lua -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'refuses an extension without its dot' {
        Register-SandboxLanguage -Name lua -Extension lua -Image 'lua:5.4' -RunCommand lua, '{file}' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidLanguageDefinition,*'
        $err[0].Exception.Message | Should -Match "'\.py'"
    }

    It 'needs the extension, image and run command of a new language' {
        Register-SandboxLanguage -Name lua -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LanguageFieldRequired,*'
        $err[0].Exception.Message | Should -Match '-Extension, -Image, -RunCommand'
    }

    It 'refuses a name or alias another language has' {
        Register-SandboxLanguage -Name lua -Extension .lua -Image 'lua:5.4' -RunCommand lua, '{file}' -Alias js -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LanguageNameConflict,*'
        $err[0].Exception.Message | Should -Match "'js' already names language 'node'"
    }

    It 'changes nothing with -WhatIf' {
        Register-SandboxLanguage -Name lua -Extension .lua -Image 'lua:5.4' -RunCommand lua, '{file}' -WhatIf
        Get-SandboxLanguage lua -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'puts the built-in table back with -Reset' {
        Register-SandboxLanguage -Name lua -Extension .lua -Image 'lua:5.4' -RunCommand lua, '{file}'
        Register-SandboxLanguage -Name python -Image $poly
        Register-SandboxLanguage -Reset
        Get-SandboxLanguage lua -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-SandboxLanguage python).Image | Should -Be 'python:3.12-slim'
    }
}
