#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# README.md is run as written: its "Quick tour" and "Polyglot tour" code blocks are read from README.md here (never
# copied into this file), split into statements with PowerShell's parser and run one after the other, as a user
# would type them, in a pwsh of their own (so the tours' pools, jobs, event subscriptions and language registrations
# end with it), in a folder holding what they expect (./myproject with build.sh and test.sh, ./data.csv, ./report.py,
# ./examples/web-app). Every statement must run without an error record or an exception, and where the tour promises
# something, the outcome is checked. The "Troubleshooting" section's messages are provoked for real and compared
# with the quotes (<...> in a quote stands for a part that differs from machine to machine).
#
# The Quick tour's `Stop-Sandbox -All` removes every sandbox of the module on the engine. It runs as written in CI
# (CI=true: a machine of its own, the suite's files one by one); elsewhere the engine may be shared, so it is replaced,
# visibly, by a stop of the tour's own sandboxes (run with CI=true to run it as written).
# Whatever happens, every sandbox the tours made (owned by their pwsh), and the images they built, are removed.

BeforeDiscovery {
    $readmePath = Join-Path $PSScriptRoot '../../README.md'
    $readme = [IO.File]::ReadAllText($readmePath)

    # The first ```powershell block under the "## <heading>" line.
    function Get-ReadmeCodeBlock([string] $Text, [string] $Heading) {
        $section = [regex]::Match($Text, '(?ms)^## ' + [regex]::Escape($Heading) + '\s*$(.*?)(?=^## |\z)')
        if (-not $section.Success) { throw "README.md has no '## $Heading' section." }
        $block = [regex]::Match($section.Groups[1].Value, '(?ms)^```powershell\s*$(.*?)^```')
        if (-not $block.Success) { throw "README.md's '## $Heading' has no powershell code block." }
        $block.Groups[1].Value
    }

    # Lines that cannot run here, each replaced as shown (the test prints the table): keyed by the line's start.
    $substitutions = [ordered]@{
        'Install-PSResource Sandbox'                            = '# Install-PSResource Sandbox: no PowerShell Gallery here; the module is the one just built'
        'Import-Module ./output/Sandbox/<version>/Sandbox.psd1' = 'Import-Module $env:SANDBOX_MODULE_PATH'
    }

    # The tour's statements, after the substitutions, as PowerShell's parser splits them.
    function Get-TourStatement([string] $Block, [System.Collections.IDictionary] $Substitutions) {
        $lines = foreach ($line in $Block -split '\r?\n') {
            $key = @($Substitutions.Keys | Where-Object { $line.TrimStart().StartsWith($_) })[0]
            if ($key) { $Substitutions[$key] } else { $line }
        }
        $tokens = $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput(($lines -join "`n"), [ref] $tokens, [ref] $errors)
        if ($errors) { throw "The tour does not parse: $($errors -join '; ')" }
        foreach ($statement in $ast.EndBlock.Statements) { $statement.Extent.Text }
    }

    $tours = foreach ($heading in 'Quick tour', 'Polyglot tour') {
        $block = Get-ReadmeCodeBlock $readme $heading
        $statements = @(Get-TourStatement $block $substitutions)
        @{
            Tour        = $heading
            Substituted = @($substitutions.Keys | Where-Object { $k = $_; $block -split '\r?\n' | Where-Object { $_.TrimStart().StartsWith($k) } } |
                    ForEach-Object { "$_  ->  $($substitutions[$_])" })
            Statements  = @(for ($i = 0; $i -lt $statements.Count; $i++) { @{ Index = $i; Text = $statements[$i] } })
        }
    }
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'readme'
    $script:Readme = [IO.File]::ReadAllText((Join-Path (Get-TestRepoRoot) 'README.md'))
    $script:TourRuns = @{}

    # The folder the tours run in, with what they use.
    $script:Work = Join-Path $TestDrive 'tour'
    $project = New-Item -ItemType Directory -Force -Path (Join-Path $script:Work 'myproject')
    Set-Content -LiteralPath (Join-Path $project 'build.sh') -Value 'mkdir -p out && echo "built at $(date)" > out/result.txt && echo "build ok"'
    Set-Content -LiteralPath (Join-Path $project 'test.sh') -Value 'test -s out/result.txt && echo "tests passed"'
    Set-Content -LiteralPath (Join-Path $script:Work 'data.csv') -Value "name,count`nalpha,1`nbeta,2"
    Set-Content -LiteralPath (Join-Path $script:Work 'report.py') -Value "rows = [('alpha', 1), ('beta', 2)]`nprint(f'report: {len(rows)} rows, {sum(c for _, c in rows)} in all')"
    $null = New-Item -ItemType Directory -Force -Path (Join-Path $script:Work 'examples')
    Copy-Item -LiteralPath (Join-Path (Get-TestRepoRoot) 'examples/web-app') -Destination (Join-Path $script:Work 'examples') -Recurse
    Get-ChildItem -LiteralPath (Join-Path $script:Work 'examples/web-app') -Include node_modules, '*.log' -Recurse -Force | Remove-Item -Recurse -Force

    # Runs the steps in a pwsh of its own, in the tour folder; each step's output (all streams, as text), its error
    # records and exception, and what its probe (code run right after it, for the checks) returned. A step with
    # Provoke runs with $ErrorActionPreference = 'Stop' and records the error it raised, in Environment's variables.
    $script:Runner = Join-Path $TestDrive 'Invoke-ReadmeSteps.ps1'
    Set-Content -LiteralPath $script:Runner -Value @'
param([string] $PlanPath)
$ErrorActionPreference = 'Continue'   # statements run as typed at a prompt
$__plan = Get-Content -Raw -LiteralPath $PlanPath | ConvertFrom-Json
Set-Content -LiteralPath $__plan.PidPath -Value $PID
Set-Location -LiteralPath $__plan.WorkFolder
if ($__plan.ImportModule) { Import-Module $env:SANDBOX_MODULE_PATH -ErrorAction Stop }
$__results = [System.Collections.Generic.List[object]]::new()
foreach ($__step in $__plan.Steps) {
    $__record = [ordered]@{ Text = $__step.Text; Output = ''; Errors = @(); Probe = $null; ErrorId = $null; Message = $null; Recommendation = $null }
    if ($__step.Provoke) {
        $__saved = @{}
        foreach ($__p in $__step.Environment.PSObject.Properties) { $__saved[$__p.Name] = [Environment]::GetEnvironmentVariable($__p.Name); [Environment]::SetEnvironmentVariable($__p.Name, $__p.Value) }
        try { $ErrorActionPreference = 'Stop'; $null = . ([scriptblock]::Create($__step.Text)) }
        catch {
            $__record.ErrorId = $_.FullyQualifiedErrorId
            $__record.Message = $_.Exception.Message
            $__record.Recommendation = if ($_.ErrorDetails) { $_.ErrorDetails.RecommendedAction }
        }
        finally {
            $ErrorActionPreference = 'Continue'
            foreach ($__n in $__saved.Keys) { [Environment]::SetEnvironmentVariable($__n, $__saved[$__n]) }
        }
    } else {
        try {
            $__out = @(. ([scriptblock]::Create($__step.Text)) *>&1)
            $__record.Errors = @($__out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" })
            $__record.Output = ($__out | Out-String -Width 250)
        } catch { $__record.Errors = @("exception: $_") }
        if ($__step.Probe) {
            try { $__record.Probe = (. ([scriptblock]::Create($__step.Probe)) | Out-String -Width 250).Trim() }
            catch { $__record.Probe = "probe failed: $_" }
        }
    }
    $__results.Add([pscustomobject]$__record)
    ConvertTo-Json -InputObject $__results.ToArray() -Depth 4 | Set-Content -LiteralPath $__plan.ResultPath
}
'@

    function Invoke-ReadmeSteps([object[]] $Steps, [string] $Name, [switch] $ImportModule, [int] $TimeoutSec = 600) {
        $plan = @{
            ImportModule = [bool]$ImportModule
            WorkFolder = $script:Work
            PidPath    = Join-Path $TestDrive "$Name.pid"
            ResultPath = Join-Path $TestDrive "$Name.json"
            Steps      = $Steps
        }
        $planPath = Join-Path $TestDrive "$Name.plan.json"
        $plan | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $planPath
        $log = Join-Path $TestDrive "$Name.log"
        $process = Start-Process -FilePath 'dotnet' -WorkingDirectory (Get-TestRepoRoot) -PassThru `
            -RedirectStandardOutput "$log.out" -RedirectStandardError "$log.err" `
            -ArgumentList @('tool', 'run', 'pwsh', '-NoProfile', '-NonInteractive', '-File', $script:Runner, '-PlanPath', $planPath)
        $finished = $process.WaitForExit($TimeoutSec * 1000)
        if (-not $finished) { $process.Kill($true); $process.WaitForExit() }
        $childPid = if (Test-Path -LiteralPath $plan.PidPath) { (Get-Content -LiteralPath $plan.PidPath).Trim() }
        $results = if (Test-Path -LiteralPath $plan.ResultPath) { @(Get-Content -Raw -LiteralPath $plan.ResultPath | ConvertFrom-Json) } else { @() }
        [pscustomobject]@{
            Finished = $finished
            ExitCode = if ($finished) { $process.ExitCode } else { "killed after $TimeoutSec s" }
            Pid      = $childPid
            Results  = $results
            Log      = (@(Get-Content -LiteralPath "$log.out", "$log.err" -ErrorAction Ignore) -join "`n")
        }
    }

    # Removes what a tour's pwsh left: its sandboxes (owner label) with their volumes, and the images built from the tour folder.
    function Remove-TourLeftover($Run) {
        if ($Run -and $Run.Pid) {
            $owner = '{0}:{1}' -f [Environment]::MachineName, $Run.Pid
            foreach ($name in @(docker ps -a --filter "label=io.sandbox.owner=$owner" --format '{{.Names}}')) {
                docker rm -f -v $name *> $null
                docker volume ls -q --filter "name=$name-" | ForEach-Object { docker volume rm -f $_ *> $null }
            }
        }
        foreach ($id in @(docker image ls -q --no-trunc --filter 'label=io.sandbox.build=true' | Sort-Object -Unique)) {
            $source = docker image inspect --format '{{index .Config.Labels "io.sandbox.build.source"}}' $id 2>$null
            if ($source -and $source.StartsWith($script:Work)) { docker image rm -f $id *> $null }
        }
    }

    # The statement's result; the failure message shows the whole run when it is missing.
    function Get-StepResult($Run, [string] $Like) {
        if (-not $Run) { throw 'The tour did not run (see the failure of its Describe above).' }
        $found = @($Run.Results | Where-Object { $_.Text -like $Like })
        if (-not $found) { throw "No result for a statement like '$Like'; the tour's pwsh (exit code $($Run.ExitCode)) printed:`n$($Run.Log)" }
        $found[0]
    }

    # Probes: code run right after the statement that matches, whose result the tests check.
    $script:Probes = [ordered]@{
        '$sb | Invoke-SandboxCommand ''sh build.sh && sh test.sh''*' = '$LASTEXITCODE'
        '$sb | Set-Sandbox -Timeout 3600*'                           = '[int](Get-Sandbox -Id $sb.Id).TimeLeft.TotalMinutes'
        '$both = $sb | Invoke-SandboxCommand*2>&1*'                  = '(@($both | ForEach-Object { "$_" }) | Sort-Object) -join '','''
        'Copy-SandboxItem ./data.csv*'                               = '$sb | Invoke-SandboxCommand ''cat /workspace/data.csv'''
        'Copy-SandboxItem /workspace/out*'                           = 'Get-ChildItem ./out -Recurse -File | ForEach-Object Name'
        '$web.Ports*'                                                = @'
foreach ($try in 1..50) {
    try { (Invoke-WebRequest -Uri $web.Ports[0].Url -SkipHttpErrorCheck -TimeoutSec 5).StatusCode; break }
    catch { Start-Sleep -Milliseconds 200 }   # the server may still be starting: the next try tells
}
'@
        'New-Sandbox -ProjectId demo*'                               = 'Test-Path -LiteralPath ./projects/demo -PathType Container'
        '$fast = New-Sandbox*'                                       = '$fast.Pool'
        'Get-Sandbox | Stop-Sandbox -WhatIf*'                        = '@(Get-Sandbox | Where-Object Id -In $sb.Id, $web.Id).Count'
        'Stop-Sandbox -All*'                                         = '@(Get-Sandbox | Where-Object Owner -EQ "$([Environment]::MachineName):$PID").Count'
        'Register-SandboxLanguage -Name lua*'                        = '(Get-SandboxLanguage | Where-Object Name -EQ lua).Image'
    }
    function ConvertTo-Step([object[]] $Statements) {
        foreach ($s in $Statements) {
            $probe = @($script:Probes.Keys | Where-Object { $s.Text -like $_ } | ForEach-Object { $script:Probes[$_] })[0]
            @{ Text = $s.Text; Probe = $probe }
        }
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'README.md <Tour>, as written' -ForEach $tours {
    BeforeAll {
        Write-Host "    substituted in the $Tour (line that starts with -> what runs instead):"
        foreach ($line in $Substituted) { Write-Host "      $line" }
        # A tour that does not import the module itself goes on in the session the Quick tour began: imported first.
        $importsItself = @($Statements | Where-Object { $_.Text -match '^Import-Module ' }).Count -gt 0
        if (-not $importsItself) { Write-Host "    the $Tour does not import the module: its pwsh imports it first" }
        $steps = @(ConvertTo-Step $Statements)
        if ($env:CI -ne 'true' -and ($steps | Where-Object Text -EQ 'Stop-Sandbox -All')) {
            $own = 'Get-Sandbox | Where-Object Owner -EQ "$([Environment]::MachineName):$PID" | Stop-Sandbox'
            Write-Host "      Stop-Sandbox -All  ->  $own   (not CI: the engine may be shared; CI=true runs it as written)" -ForegroundColor Yellow
            foreach ($step in $steps) { if ($step.Text -eq 'Stop-Sandbox -All') { $step.Text = $own } }
        }
        $run = Invoke-ReadmeSteps -Steps $steps -Name ($Tour -replace '\W', '') -ImportModule:(-not $importsItself)
        $script:TourRuns[$Tour] = $run
    }
    AfterAll { Remove-TourLeftover $run }

    It 'runs to its end' {
        $run.Finished | Should -BeTrue -Because $run.Log
        $run.Results.Count | Should -Be $Statements.Count -Because "every statement runs; the tour's pwsh printed:`n$($run.Log)"
    }

    It 'runs <Text> without an error' -ForEach $Statements {
        $result = $run.Results[$Index]
        $result | Should -Not -BeNullOrEmpty -Because "the statement ran; the tour's pwsh printed:`n$($run.Log)"
        if ($Text -ne 'Stop-Sandbox -All' -or $result.Text -eq $Text) { $result.Text | Should -BeExactly $Text }
        @($result.Errors) | Should -BeNullOrEmpty -Because "its output was:`n$($result.Output)"
    }
}

Describe 'README.md Quick tour, what it promises' {
    BeforeAll { $tour = $script:TourRuns['Quick tour'] }

    It 'builds and tests the project in the sandbox, exit code 0' {
        $r = Get-StepResult $tour '$sb | Invoke-SandboxCommand ''sh build.sh && sh test.sh''*'
        $r.Output | Should -Match 'build ok'
        $r.Output | Should -Match 'tests passed'
        $r.Probe | Should -Be '0'
    }

    It 'moves the deadline to one hour from now' {
        [int](Get-StepResult $tour '$sb | Set-Sandbox -Timeout 3600*').Probe | Should -BeIn (55..60)
    }

    It 'feeds piped strings to the command''s stdin, and captures stderr with 2>&1' {
        (Get-StepResult $tour '''banana'', ''apple'' | Invoke-SandboxCommand*').Output | Should -Match '(?s)apple\s+banana'
        (Get-StepResult $tour '$both = $sb | Invoke-SandboxCommand*2>&1*').Probe | Should -Be 'err,out'
    }

    It 'copies data.csv in and the out folder back' {
        (Get-StepResult $tour 'Copy-SandboxItem ./data.csv*').Probe | Should -Match '(?s)name,count.*alpha,1.*beta,2'
        (Get-StepResult $tour 'Copy-SandboxItem /workspace/out*').Probe | Should -Match 'result\.txt'
    }

    It 'serves HTTP on the published port' {
        (Get-StepResult $tour '$web.Ports*').Output | Should -Match 'http://127\.0\.0\.1:\d+'
        (Get-StepResult $tour '$web.Ports*').Probe | Should -Match '^\d{3}$' -Because 'httpd answers on the published port'
    }

    It 'makes the project folder and lists it in the project sandbox' {
        (Get-StepResult $tour 'New-Sandbox -ProjectId demo*').Probe | Should -Be 'True'
        (Get-StepResult $tour 'Get-Sandbox -ProjectId demo | Invoke-SandboxCommand*').Output | Should -Match 'total \d+'
    }

    It 'gets the background job''s output' {
        (Get-StepResult $tour '$job | Wait-Job | Receive-Job*').Output | Should -Match '(?m)^done\s*$'
    }

    It 'takes the new sandbox from the warm pool' {
        (Get-StepResult $tour '$fast = New-Sandbox*').Probe | Should -Not -BeNullOrEmpty
    }

    It 'shows what would be stopped, then stops every sandbox' {
        (Get-StepResult $tour 'Get-Sandbox | Stop-Sandbox -WhatIf*').Probe | Should -Be '2' -Because '-WhatIf only says what it would do'
        $stop = @($tour.Results | Where-Object { $_.Text -eq 'Stop-Sandbox -All' -or $_.Text -like 'Get-Sandbox | Where-Object Owner -EQ *' })
        $stop | Should -HaveCount 1 -Because 'the tour stops its sandboxes'
        $stop[0].Probe | Should -Be '0' -Because 'none of the tour''s sandboxes is left'
    }

    It 'runs a block in a sandbox that Use-Sandbox removes' {
        (Get-StepResult $tour 'Use-Sandbox*').Output | Should -Match 'Linux'
    }

    It 'shows the help' {
        (Get-StepResult $tour 'Get-Help New-Sandbox -Examples*').Output | Should -Match 'EXAMPLE 1'
        (Get-StepResult $tour 'Get-Help about_Sandbox*').Output | Should -Match 'about_Sandbox'
    }
}

Describe 'README.md Polyglot tour, what it promises' {
    BeforeAll { $tour = $script:TourRuns['Polyglot tour'] }

    It 'runs Python and Node, and a local script' {
        (Get-StepResult $tour 'Invoke-SandboxCode -Language python*').Output | Should -Match '(?m)^3\.\d+\.\d+'
        (Get-StepResult $tour '$sb | Invoke-SandboxCode -Language node*').Output | Should -Match '(?m)^v\d+\.\d+\.\d+'
        (Get-StepResult $tour '$sb | Invoke-SandboxCode -Path ./report.py*').Output | Should -Match 'report: 2 rows, 3 in all'
    }

    It 'shows the language table and adds to it' {
        (Get-StepResult $tour 'Get-SandboxLanguage*').Output | Should -Match 'python'
        (Get-StepResult $tour 'Register-SandboxLanguage -Name lua*').Probe | Should -Be 'my/lua:5.4'
    }

    It 'builds the web app, which answers on its published port' {
        (Get-StepResult $tour '*Invoke-RestMethod*/api/health*').Output | Should -Match '(?m)^\s*ok\s+v\d+\.' -Because 'the health check answers status ok and the node version'
    }
}

Describe 'README.md Troubleshooting' {
    BeforeAll {
        $section = [regex]::Match($script:Readme, '(?ms)^## Troubleshooting\s*$(.*?)(?=^## |\z)').Groups[1].Value

        # The quoted message under "### <entry>": the first ```text block, its lines joined.
        function Get-Quote([string] $Entry) {
            $m = [regex]::Match($section, '(?ms)^### ' + [regex]::Escape($Entry) + '\s*$.*?^```text\s*$(.*?)^```')
            if (-not $m.Success) { throw "README.md's Troubleshooting has no '### $Entry' with a text block." }
            ($m.Groups[1].Value.Trim() -split '\r?\n' | ForEach-Object Trim) -join ' '
        }
        # A quote as a pattern: <...> stands for any text; the rest is literal; whitespace is compared loosely.
        function ConvertTo-QuotePattern([string] $Quote) {
            $parts = [regex]::Split($Quote, '<[^<>]+>') | ForEach-Object { [regex]::Escape(($_ -replace '\s+', ' ')) -replace '\\ ', '\s+' }
            '^' + ($parts -join '.+?') + '$'
        }

        $script:HubReachable = try { [System.Net.Dns]::GetHostAddresses('registry-1.docker.io').Count -gt 0 } catch { $false }
        $tls = Get-TestRemoteSetting
        $sshHome = New-TestSshHome -KnownHosts None
        $steps = @(
            @{ Entry = 'No engine running'; Provoke = $true; Environment = @{}
                Text = 'New-Sandbox -DockerHost unix:///tmp/sandbox-readme-no-engine.sock -Image sandbox-local/busybox:latest' }
            # The newcomer's case: no -Image and no $env:SANDBOX_IMAGE, so the module's default from Docker Hub. Where the
            # engine can reach Docker Hub, that would pull gigabytes: then this entry is not provoked and its test skips.
            @{ Entry = 'An image that can''t be pulled offline'; Provoke = $true; Environment = @{ SANDBOX_IMAGE = $null }
                Text = $(if ($script:HubReachable) { '# not provoked: Docker Hub is reachable' } else { 'New-Sandbox' }) }
            @{ Entry = 'An unknown ssh host'; Provoke = $true; Environment = @{ HOME = $sshHome }
                Text = "Get-Sandbox -DockerHost $($tls.SshHost)" }
            @{ Entry = 'A TLS name mismatch'; Provoke = $true; Environment = @{ DOCKER_TLS_VERIFY = '1'; DOCKER_CERT_PATH = (Get-TestTlsCertPath -Kind Client) }
                Text = "Get-Sandbox -DockerHost $($tls.TlsWrongNameHost)" }
        )
        $run = Invoke-ReadmeSteps -Steps $steps -Name 'Troubleshooting' -ImportModule -TimeoutSec 120
    }
    AfterAll {
        Remove-TourLeftover $run
        Remove-Item -LiteralPath $sshHome -Recurse -Force -ErrorAction Ignore
    }

    It 'quotes the message for "<_>" as the module prints it' -ForEach 'No engine running', 'An image that can''t be pulled offline', 'An unknown ssh host', 'A TLS name mismatch' {
        $entry = $_
        if ($entry -like 'An image*' -and $script:HubReachable) { Set-ItResult -Skipped -Because 'Docker Hub is reachable from here: provoking it would pull the real default image'; return }
        $index = [array]::IndexOf(@($steps | ForEach-Object Entry), $entry)
        $result = $run.Results[$index]
        $result.Message | Should -Not -BeNullOrEmpty -Because "'$($steps[$index].Text)' must fail; its pwsh printed:`n$($run.Log)"
        $printed = "$($result.Message)$(if ($result.Recommendation) { "`nRecommendation: $($result.Recommendation)" })" -replace '\s+', ' '
        $printed | Should -Match (ConvertTo-QuotePattern (Get-Quote $entry)) -Because "README.md quotes under '### $entry':`n$(Get-Quote $entry)`nand the module printed:`n$printed"
    }
}
