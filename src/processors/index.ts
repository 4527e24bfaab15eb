// The built-in sink processors (sink groups). Adding one: write its module, then list it here.
import defaultProcessor from './default.js';
import failover from './failover.js';
import loadBalance from './load-balance.js';

export default [defaultProcessor, failover, loadBalance];
