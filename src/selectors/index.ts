// The built-in channel selectors. Adding one: write its module, then list it here.
import replicating from './replicating.js';
import multiplexing from './multiplexing.js';
import loadBalancing from './load-balancing.js';

export default [replicating, multiplexing, loadBalancing];
