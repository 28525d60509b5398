#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# New-Sandbox -Build against the real engine: Python and Node projects installed from the polyglot image's own
# packages (no network reaches the builds here), a folder's own Dockerfile, .dockerignore, the cache by input hash,
# a failing step, and the parameter errors. Every image the file builds (label io.sandbox.build.source under
# this file's TestDrive) is removed at the end.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'build'

    $script:Polyglot = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }
    docker image inspect $script:Polyglot *> $null
    if ($LASTEXITCODE -ne 0) { throw "The polyglot image '$script:Polyglot' is missing; build it with tests/setup/New-PolyglotImage.sh." }
    $script:Busybox = Get-TestImage
    $script:Projects = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'projects')).FullName
    $script:Suffix = [Guid]::NewGuid().ToString('n').Substring(0, 6)

    function New-TestProject {
        # A folder named <what>-<run suffix> (so that its image tag is this run's own) with the given files.
        param([string] $What, [hashtable] $Files)
        $folder = Join-Path $script:Projects "$What-$script:Suffix"
        foreach ($name in $Files.Keys) {
            $path = Join-Path $folder $name
            $null = New-Item -ItemType Directory -Force -Path (Split-Path $path)
            [IO.File]::WriteAllText($path, $Files[$name])
        }
        $folder
    }

    function Invoke-Build {
        # New-Sandbox -Build with the verbose lines captured apart; returns the sandbox, the lines, the errors and the time.
        param([hashtable] $Parameters)
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $errors = $null
        $all = New-Sandbox -Build @Parameters -Verbose -ErrorVariable errors -ErrorAction SilentlyContinue 4>&1
        $clock.Stop()
        [pscustomobject]@{
            Sandbox = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })[0]
            Verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            Errors  = @($errors)
            Seconds = $clock.Elapsed.TotalSeconds
        }
    }

    function Get-ImageCreated {
        param([string] $Image)
        docker image inspect --format '{{.Created}}' $Image
    }
}

AfterAll {
    Complete-SandboxTest
    foreach ($id in @(docker image ls -q --no-trunc --filter 'label=io.sandbox.build=true' | Sort-Object -Unique)) {
        $source = docker image inspect --format '{{index .Config.Labels "io.sandbox.build.source"}}' $id 2>$null
        if ($source -and $source.StartsWith($script:Projects)) { docker image rm -f $id *> $null }
    }
}

Describe 'New-Sandbox -Build' {

    Context 'a Python project with requirements.txt' {
        BeforeAll {
            $folder = New-TestProject 'py' @{
                'requirements.txt' = "requests`n"   # the image's python3-requests satisfies it: pip needs no network
                'main.py'          = "import requests`nprint('hello from requests', requests.__version__)`n"
            }
            $first = Invoke-Build @{ Path = $folder; BaseImage = $script:Polyglot; Name = (New-TestName 'py') }
            $sandbox = $first.Sandbox
            Write-Host ("    first build of the Python project: {0:0.0} s" -f $first.Seconds)
        }
        AfterAll { if ($sandbox) { $sandbox | Stop-Sandbox } }

        It 'builds an image tagged by the hash of its inputs and starts the sandbox from it' {
            $first.Errors | Should -BeNullOrEmpty
            $sandbox.Image | Should -Match "^sandbox-build/py-$($script:Suffix):[0-9a-f]{16}$"
            (Get-ContainerInspect $sandbox.Name).Config.Image | Should -Be $sandbox.Image
            $labels = (docker image inspect $sandbox.Image | ConvertFrom-Json)[0].Config.Labels
            $labels.'io.sandbox.build' | Should -Be 'true'
            $labels.'io.sandbox.build.language' | Should -Be 'python'
            $labels.'io.sandbox.build.source' | Should -Be $folder
            $labels.'io.sandbox.build.hash' | Should -Match "^$($sandbox.Image.Split(':')[1])[0-9a-f]{48}$"
        }

        It 'runs the project''s code with its dependency installed' {
            Invoke-SandboxCommand -Sandbox $sandbox 'python3 main.py' | Should -Match '^hello from requests \d+\.\d+'
            $LASTEXITCODE | Should -Be 0
        }

        It 'has the code in the image at /workspace instead of a mount of the folder' {
            Invoke-SandboxCommand -Sandbox $sandbox 'pwd; ls /workspace' | Should -Be '/workspace', 'main.py', 'requirements.txt'
            $inspect = Get-ContainerInspect $sandbox.Name
            @($inspect.Mounts | Where-Object Type -eq 'bind') | Should -BeNullOrEmpty
            # A file written in the sandbox stays there.
            Invoke-SandboxCommand -Sandbox $sandbox 'echo x > /workspace/made-inside.txt'
            Test-Path (Join-Path $folder 'made-inside.txt') | Should -BeFalse
        }

        It 'shows the build output as verbose lines, step by step' {
            $first.Verbose | Should -Contain 'Step 1/10 : FROM sandbox-local/polyglot:bookworm'
            ($first.Verbose | Where-Object { $_ -like 'Step */* : RUN *pip install*' }) | Should -Not -BeNullOrEmpty
            ($first.Verbose -match 'Requirement already satisfied: requests') | Should -Not -BeNullOrEmpty
            ($first.Verbose -match '^Built image sandbox-build/') | Should -Not -BeNullOrEmpty
            ($first.Verbose -match "`e") | Should -BeNullOrEmpty -Because 'terminal colours of the builder are taken out'
        }

        It 'does not build an unchanged project again' {
            $created = Get-ImageCreated $sandbox.Image
            $second = Invoke-Build @{ Path = $folder; BaseImage = $script:Polyglot; Name = (New-TestName 'py2') }
            try {
                Write-Host ("    second -Build of the unchanged project (cache hit): {0:0.0} s" -f $second.Seconds)
                $second.Errors | Should -BeNullOrEmpty
                $second.Sandbox.Image | Should -Be $sandbox.Image
                ($second.Verbose -match 'cache hit') | Should -Not -BeNullOrEmpty
                ($second.Verbose -match '^Step \d') | Should -BeNullOrEmpty -Because 'nothing is built'
                Get-ImageCreated $second.Sandbox.Image | Should -Be $created
                $second.Seconds | Should -BeLessThan $first.Seconds
                Invoke-SandboxCommand -Sandbox $second.Sandbox 'python3 main.py' | Should -Match '^hello from requests'
            } finally { if ($second.Sandbox) { $second.Sandbox | Stop-Sandbox } }
        }

        It 'builds again when a file changes' {
            Add-Content -LiteralPath (Join-Path $folder 'main.py') -Value "print('changed')"
            $changed = Invoke-Build @{ Path = $folder; BaseImage = $script:Polyglot; Name = (New-TestName 'py3') }
            try {
                $changed.Errors | Should -BeNullOrEmpty
                $changed.Sandbox.Image | Should -Not -Be $sandbox.Image
                $changed.Sandbox.Image | Should -BeLike "sandbox-build/py-$($script:Suffix):*"
                Invoke-SandboxCommand -Sandbox $changed.Sandbox 'python3 main.py' | Select-Object -Last 1 | Should -Be 'changed'
            } finally { if ($changed.Sandbox) { $changed.Sandbox | Stop-Sandbox } }
        }
    }

    Context 'a Node project with a dependency' {
        BeforeAll {
            # ms comes from the image's own Debian package (node-ms) and has no dependencies: npm installs it offline.
            $folder = New-TestProject 'node' @{
                'package.json' = '{ "name": "build-test", "version": "1.0.0", "dependencies": { "ms": "file:/usr/share/nodejs/ms" } }'
                'main.js'      = "const ms = require('ms');`nconsole.log('a minute is ' + ms(60000));`n"
            }
            $build = Invoke-Build @{ Path = $folder; BaseImage = $script:Polyglot; Name = (New-TestName 'node') }
            $sandbox = $build.Sandbox
        }
        AfterAll { if ($sandbox) { $sandbox | Stop-Sandbox } }

        It 'installs the dependency at build time and runs with node' {
            $build.Errors | Should -BeNullOrEmpty
            ($build.Verbose -match 'npm install') | Should -Not -BeNullOrEmpty
            Invoke-SandboxCommand -Sandbox $sandbox 'node main.js' | Should -Be 'a minute is 1m'
            Invoke-SandboxCommand -Sandbox $sandbox 'test -e node_modules/ms/package.json && echo installed' | Should -Be 'installed'
            (docker image inspect --format '{{index .Config.Labels "io.sandbox.build.language"}}' $sandbox.Image) | Should -Be 'node'
        }
    }

    Context 'a folder with its own Dockerfile' {
        BeforeAll {
            $folder = New-TestProject 'own' @{
                'Dockerfile' = "FROM $($script:Busybox)`nCOPY hello.txt /opt/hello.txt`nRUN echo built-by-its-own-dockerfile > /opt/built.txt`n"
                'hello.txt'  = "hello from the context`n"
            }
            $build = Invoke-Build @{ Path = $folder; Name = (New-TestName 'own') }
            $sandbox = $build.Sandbox
        }
        AfterAll { if ($sandbox) { $sandbox | Stop-Sandbox } }

        It 'is built as is' {
            $build.Errors | Should -BeNullOrEmpty
            $build.Verbose | Should -Contain "Step 1/7 : FROM $($script:Busybox)"
            Invoke-SandboxCommand -Sandbox $sandbox 'cat /opt/hello.txt /opt/built.txt' | Should -Be 'hello from the context', 'built-by-its-own-dockerfile'
            (docker image inspect --format '{{index .Config.Labels "io.sandbox.build.language"}}' $sandbox.Image) | Should -Be 'dockerfile'
        }

        It 'refuses -BaseImage, which its FROM line decides' {
            $result = Invoke-Build @{ Path = $folder; BaseImage = $script:Polyglot; Name = (New-TestName 'ownbase') }
            $result.Sandbox | Should -BeNullOrEmpty
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'BaseImageWithDockerfile,*'
            $result.Errors[0].Exception.Message | Should -Match 'FROM'
        }
    }

    Context '.dockerignore' {
        BeforeAll {
            $folder = New-TestProject 'ignore' @{
                '.dockerignore'  = "# secrets and logs stay out`nsecret.txt`nlogs`n!logs/keep.log`n**/*.tmp`n"
                'run.sh'         = "echo run`n"
                'secret.txt'     = "one`n"
                'logs/a.log'     = "a`n"
                'logs/keep.log'  = "keep`n"
                'sub/deep/x.tmp' = "x`n"
                'sub/deep/y.txt' = "y`n"
            }
            $build = Invoke-Build @{ Path = $folder; BaseImage = $script:Busybox; Name = (New-TestName 'ign') }
            $sandbox = $build.Sandbox
        }
        AfterAll { if ($sandbox) { $sandbox | Stop-Sandbox } }

        It 'leaves ignored files out of the image and keeps the exceptions' {
            $build.Errors | Should -BeNullOrEmpty
            $files = Invoke-SandboxCommand -Sandbox $sandbox 'find . -type f | sort'
            $files | Should -Be './.dockerignore', './logs/keep.log', './run.sh', './sub/deep/y.txt'
        }

        It 'does not change the tag when only an ignored file changes' {
            Set-Content -LiteralPath (Join-Path $folder 'secret.txt') -Value 'two'
            Set-Content -LiteralPath (Join-Path $folder 'logs/a.log') -Value 'more'
            $again = Invoke-Build @{ Path = $folder; BaseImage = $script:Busybox; Name = (New-TestName 'ign2') }
            try {
                $again.Sandbox.Image | Should -Be $sandbox.Image
                ($again.Verbose -match 'cache hit') | Should -Not -BeNullOrEmpty
            } finally { if ($again.Sandbox) { $again.Sandbox | Stop-Sandbox } }
        }

        It 'changes the tag when an included file changes' {
            Set-Content -LiteralPath (Join-Path $folder 'logs/keep.log') -Value 'kept, changed'
            $again = Invoke-Build @{ Path = $folder; BaseImage = $script:Busybox; Name = (New-TestName 'ign3') }
            try {
                $again.Sandbox.Image | Should -Not -Be $sandbox.Image
                Invoke-SandboxCommand -Sandbox $again.Sandbox 'cat logs/keep.log' | Should -Be 'kept, changed'
            } finally { if ($again.Sandbox) { $again.Sandbox | Stop-Sandbox } }
        }
    }

    Context 'a failing build step' {
        BeforeAll {
            # --no-index: pip looks only at what is installed, so the missing package fails at once instead of timing out.
            $folder = New-TestProject 'fail' @{
                'requirements.txt' = "--no-index`nno-such-package-sandbox-test==9.9.9`n"
                'main.py'          = "print('never')`n"
            }
            $result = Invoke-Build @{ Path = $folder; BaseImage = $script:Polyglot; Name = (New-TestName 'fail') }
        }
        AfterAll {
            # The steps after FROM that succeeded before the failure stay as the engine's build cache, as with docker
            # build: remove those untagged layers, newest first (a parent goes only after its children). Never the base.
            $step = 0
            $ids = @(foreach ($line in $result.Verbose) {
                if ($line -match '^Step (\d+)/') { $step = [int]$Matches[1] }
                elseif ($step -ge 2 -and $line -match '^ ---> ([0-9a-f]{12})$') { $Matches[1] }
            })
            [array]::Reverse($ids)
            foreach ($id in $ids) {
                if ((docker image inspect --format '{{len .RepoTags}}' $id 2>$null) -eq '0') { docker image rm $id *> $null }
            }
        }

        It 'writes ImageBuildFailed naming the step, with the step''s log, and starts no sandbox' {
            $result.Sandbox | Should -BeNullOrEmpty
            $result.Errors | Should -HaveCount 1
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'ImageBuildFailed,*'
            $result.Errors[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $message = $result.Errors[0].Exception.Message
            $message | Should -Match 'failed at step \d+/\d+ \(RUN if \[ -f requirements\.txt \]'
            $message | Should -Match 'returned a non-zero code'
            $message | Should -Match "line\(s\) of the step's output:"
            $message | Should -Match 'no-such-package-sandbox-test'
            $message | Should -Not -Match 'Removing intermediate container'
            $result.Errors[0].ErrorDetails.RecommendedAction | Should -Match '-BaseImage'
            @(Get-TestContainer | Where-Object Name -like '*-fail-*') | Should -BeNullOrEmpty
            @(docker image ls -q "sandbox-build/fail-$($script:Suffix)") | Should -BeNullOrEmpty
        }
    }

    Context 'a project folder from -ProjectId, and Use-Sandbox' {
        BeforeAll {
            $work = (New-Item -ItemType Directory -Path (Join-Path $script:Projects "work-$($script:Suffix)")).FullName
            $projectId = "pid-$($script:Suffix)"
            $null = New-Item -ItemType Directory -Path (Join-Path $work "projects/$projectId")
            Set-Content -LiteralPath (Join-Path $work "projects/$projectId/run.sh") -Value 'echo "project script ran"'
            Push-Location $work
        }
        AfterAll { Pop-Location }

        It 'builds the project folder that -ProjectId names' {
            $sandbox = New-Sandbox -Build -ProjectId $projectId -BaseImage $script:Busybox -Name (New-TestName 'pid')
            try {
                $sandbox.ProjectId | Should -Be $projectId
                $sandbox.Image | Should -BeLike "sandbox-build/pid-$($script:Suffix):*"
                Invoke-SandboxCommand -Sandbox $sandbox 'sh run.sh' | Should -Be 'project script ran'
            } finally { $sandbox | Stop-Sandbox }
        }

        It 'builds with Use-Sandbox too' {
            $out = Use-Sandbox -Build -Path "./projects/$projectId" -BaseImage $script:Busybox -Name (New-TestName 'use') { param($s) Invoke-SandboxCommand -Sandbox $s 'sh run.sh' }
            $out | Should -Be 'project script ran'
        }
    }

    Context 'parameter errors' {
        It '<Case> is a clear error and creates nothing' -ForEach @(
            @{ Case = '-Build without a folder'; Parameters = @{ Build = $true }; ErrorId = 'BuildPathRequired'; Message = '-Path' }
            @{ Case = '-Build with -Image'; Parameters = @{ Build = $true; Path = 'FOLDER'; Image = 'sandbox-local/busybox:latest' }; ErrorId = 'BuildWithImage'; Message = '-BaseImage' }
            @{ Case = '-BaseImage without -Build'; Parameters = @{ Path = 'FOLDER'; BaseImage = 'sandbox-local/busybox:latest' }; ErrorId = 'BaseImageWithoutBuild'; Message = '-Build' }
            @{ Case = '-Build with -CopyPath'; Parameters = @{ Build = $true; Path = 'FOLDER'; CopyPath = $true }; ErrorId = 'BuildWithCopyPath'; Message = '/workspace' }
            @{ Case = 'an invalid -BaseImage'; Parameters = @{ Build = $true; Path = 'FOLDER'; BaseImage = 'Not A Reference' }; ErrorId = 'InvalidImageReference'; Message = 'not a valid image reference' }
        ) {
            $name = New-TestName 'err'
            if ($Parameters['Path'] -eq 'FOLDER') { $Parameters['Path'] = $script:Projects }   # TestDrive exists only at run time
            $errors = $null
            $result = New-Sandbox @Parameters -Name $name -ErrorVariable errors -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errors[0].Exception.Message | Should -BeLike "*$Message*"
            Test-ContainerExists $name | Should -BeFalse
        }
    }

    Context 'on an ssh:// engine' {
        BeforeAll {
            $remote = Get-TestRemoteSetting
            $folder = New-TestProject 'ssh' @{ 'run.sh' = "echo built over ssh $([Guid]::NewGuid())`n" }
        }

        It 'streams the context to the remote engine and builds there' {
            if (-not (Test-Path -LiteralPath (Join-Path $remote.SshHome '.ssh/id_ed25519'))) {
                Set-ItResult -Skipped -Because 'no ssh test set-up here (tests/setup/Start-TestSshd.sh)'; return
            }
            $sandbox = Use-TestSshHome { New-Sandbox -Build -Path $folder -BaseImage $script:Busybox -DockerHost $remote.SshHost -Name (New-TestName 'ssh') -Verbose 4>&1 }
            $lines = @($sandbox | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $sandbox = @($sandbox | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })[0]
            try {
                $sandbox.DockerHost | Should -Be $remote.SshHost
                $lines | Should -Contain "Step 1/7 : FROM $($script:Busybox)"
                Invoke-SandboxCommand -Sandbox $sandbox 'sh run.sh' | Should -BeLike 'built over ssh *'
            } finally { if ($sandbox) { $sandbox | Stop-Sandbox } }
        }
    }
}
