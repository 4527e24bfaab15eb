// The built-in interceptors. Adding one: write its module, then list it here.
import type { InterceptorDefinition } from '../core/component.js';

const interceptors: InterceptorDefinition[] = [];
export default interceptors;
