// The built-in interceptors. Adding one: write its module, then list it here.
import { type InterceptorDefinition } from '../plugin-api/index.js';
import timestamp from './timestamp.js';
import host from './host.js';
import staticInterceptor from './static.js';
import removeHeader from './remove-header.js';
import uuid from './uuid.js';
import searchReplace from './search-replace.js';
import regexFilter from './regex-filter.js';
import regexExtractor from './regex-extractor.js';

const interceptors: InterceptorDefinition[] = [timestamp, host, staticInterceptor, removeHeader, uuid, searchReplace, regexFilter, regexExtractor];
export default interceptors;
