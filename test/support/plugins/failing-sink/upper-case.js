// A test interceptor, loaded from the same plugin package: upper-cases the body of
// every event (ASCII only) and, with `header` set, records the original length there.
import { defineInterceptor, opt } from '../../../../dist/src/plugin-api/index.js';

export default defineInterceptor({
  type: 'com.example.UpperCaseInterceptor$Builder',
  description: 'Test interceptor: upper-cases event bodies.',
  options: {
    header: opt.optionalString('Header that receives the body length before the edit.'),
  },
  create: ({ options }) => ({
    intercept(events) {
      for (const e of events) {
        if (options.header !== undefined) e.headers[options.header] = String(e.body.length);
        e.body = Buffer.from(e.body.toString('latin1').toUpperCase(), 'latin1');
      }
      return events;
    },
  }),
});
