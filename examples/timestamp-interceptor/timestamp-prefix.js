// The seed notes' timestamp prefix (their Kafka KafkaInterceptor's "<millis>:<value>"),
// as a Flume interceptor. Flume names an interceptor by its Builder class
// (`...TimeStampInterceptor$Builder`): the Builder's configure(Context) is the options
// declared here, and its build() is create(). Either spelling, with or without
// `$Builder`, names it in a job file.
import { defineInterceptor, opt } from 'flume-ts/plugin';

export default defineInterceptor({
  type: 'com.atguigu.interceptor.TimeStampInterceptor$Builder',
  aliases: ['com.atguigu.interceptor.TimeStampInterceptor'],
  description: 'Puts the time the event passed (milliseconds since the epoch) and a separator before each body.',
  options: {
    separator: opt.string(':', 'Text between the time and the body.'),
  },
  create({ options }) {
    const sep = Buffer.from(options.separator, 'utf8');
    return {
      intercept(events) {
        const prefix = Buffer.concat([Buffer.from(String(Date.now()), 'latin1'), sep]);
        for (const e of events) e.body = Buffer.concat([prefix, e.body]);
        return events;
      },
    };
  },
});
