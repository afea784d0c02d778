import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestCandidate, campaignDecision, type Candidate } from './campaign-decision.js';

const c = (id: string, epoch: number, serial: number): Candidate => ({ id, epoch, serial, url: `http://${id}` });

test('only the most caught-up candidate campaigns', () => {
  const list = [c('a', 1, 10), c('b', 1, 12), c('c', 1, 11)];
  assert.deepEqual(campaignDecision('b', list), { campaign: true });
  const a = campaignDecision('a', list);
  assert.equal(a.campaign, false);
  assert.match(!a.campaign ? a.reason : '', /replica b is more caught up .*serial 12/);
});

test('a later epoch beats a higher serial of an older term', () => {
  assert.equal(bestCandidate([c('old', 1, 50), c('new', 2, 40)])?.id, 'new');
});

test('equal progress: the smaller id campaigns, the other waits', () => {
  const list = [c('y', 2, 7), c('x', 2, 7)];
  assert.equal(campaignDecision('x', list).campaign, true);
  assert.equal(campaignDecision('y', list).campaign, false);
});

test('a replica that is not registered never campaigns', () => {
  assert.equal(campaignDecision('z', [c('a', 1, 1)]).campaign, false);
  assert.equal(campaignDecision('z', []).campaign, false);
});
