#!/usr/bin/env python3
"""Reference DORA numbers for a gen_dora_data output directory, independent of the C++ engine.

Replays the GitHub and PagerDuty mappings of blueprints/dora/mappings with the jq CLI
(tools/gen/replay_jq.py), then applies seed 003's aggregations and tier formulas with
DESIGN.md's semantics (time-average periods = max(1, ceil(span / week)); lastMonth = the 30
days before now; averages skip nulls). Usage: dora_oracle.py DATA_DIR [NOW_ISO]
Needs python3 with PyYAML, and jq on PATH."""
import json, math, os, subprocess, sys, datetime
HERE=os.path.dirname(os.path.abspath(__file__))
M=os.path.join(HERE,'..','..','blueprints','dora','mappings')+'/'
D=sys.argv[1].rstrip('/')+'/'
NOW=datetime.datetime.fromisoformat((sys.argv[2] if len(sys.argv)>2 else '2026-11-01T00:00:00Z').replace('Z','+00:00')).timestamp()
def rp(m, f):
    out = subprocess.run([sys.executable,os.path.join(HERE,'replay_jq.py'),M+m,D+f],capture_output=True,text=True).stdout
    return [json.loads(l) for l in out.splitlines()]
def ts(s): return datetime.datetime.fromisoformat(s.replace('Z','+00:00')).timestamp()
svcs={e['identifier']:e['relations']['team'] for e in rp('github-repositories.yaml','repositories.json')}
teams=[e['identifier'] for e in rp('github-teams.yaml','teams.json')]
deps=[e for e in rp('github-pr-deployments.yaml','pull_requests.json') if e['properties']['deploymentStatus']=='Success' and e['properties']['environment']=='Production']
prs=rp('github-pull-requests.yaml','pull_requests.json')
incs={}
for e in rp('pagerduty-incidents.yaml','incidents.json'): incs[e['identifier']]=e
incs=list(incs.values())
def metrics(svcset):
    d=[ts(e['properties']['createdAt']) for e in deps if e['relations']['service'] in svcset]
    td=len(d); df=(td/max(1,math.ceil((max(d)-min(d))/(7*86400)))) if d else None
    lt=[e['properties']['cycle_time_hours'] for e in prs if e['relations']['service'] in svcset and e['properties']['mergedAt'] and NOW-30*86400<=ts(e['properties']['mergedAt'])<=NOW and isinstance(e['properties']['cycle_time_hours'],(int,float))]
    lt=sum(lt)/len(lt) if lt else None
    ii=[e for e in incs if e['relations']['service'] in svcset]
    ti=len(ii); rec=[e['properties']['recoveryTime'] for e in ii if e['properties']['recoveryTime'] is not None]
    mttr=sum(rec)/len(rec) if rec else None
    return td,df,lt,ti,mttr
def tiers(td,dfps,lt,ti,mttr):
    dft='Low' if not td else ('Elite' if dfps>=7 else 'High' if dfps>=1 else 'Medium' if dfps>=0.25 else 'Low')
    ltt='Low' if lt is None else 'Elite' if lt<=24 else 'High' if lt<=168 else 'Medium' if lt<=720 else 'Low'
    cfr=None if not td else math.floor(ti/(td+ti)*100)
    cft=None if cfr is None else 'Elite' if cfr<=5 else 'High' if cfr<=20 else 'Medium' if cfr<=30 else 'Low'
    mt=None if not ti else 'Elite' if mttr is None else 'Elite' if mttr<=60 else 'High' if mttr<=1440 else 'Medium' if mttr<=43200 else 'Low'
    return dft,ltt,cfr,cft,mt
fmt=lambda x: '-' if x is None else (f'{x:.2f}' if isinstance(x,float) else str(x))
print('df/wk: per week (team: per week per service); lt-h: mean cycle_time_hours of PRs merged in the last 30 days; mttr in minutes')
print('%-18s %-14s %5s %8s %9s %4s %9s | DF LT CFR%% CFR MTTR'%('entity','team','deps','df/wk','lt-h','inc','mttr-min'))
for t in teams:
    ss={s for s,tt in svcs.items() if tt==t}
    td,df,lt,ti,mttr=metrics(ss); dfps=(df or 0)/len(ss) if ss else 0
    print('%-18s %-14s %5d %8s %9s %4d %9s | %s'%('TEAM '+t,'',td,fmt(dfps),fmt(lt),ti,fmt(mttr),' '.join(map(str,tiers(td,dfps,lt,ti,mttr)))))
    for s in sorted(ss):
        td,df,lt,ti,mttr=metrics({s})
        print('%-18s %-14s %5d %8s %9s %4d %9s | %s'%(s,t,td,fmt(df),fmt(lt),ti,fmt(mttr),' '.join(map(str,tiers(td,df or 0,lt,ti,mttr)))))
