import type { Transform } from '../../src/csv/transform.ts';

/** Readings in °F become °C; test devices are dropped; a temperature no sensor gives is rejected. */
export const transform: Transform = (row, context) => {
  const device = row['device_id'] as string;
  if (device.startsWith('test-')) return null;
  const fahrenheit = row['temp_f'] as number | null;
  if (fahrenheit === null) return context.reject('temp_f: a reading needs a temperature');
  const celsius = Math.round(((fahrenheit - 32) * 5 * 100) / 9) / 100;
  if (celsius < -60 || celsius > 125) return context.reject(`temp_f: ${fahrenheit} is outside the sensor's range`);
  return { timestamp: row['timestamp'], device_id: device, temp_c: celsius, battery: row['battery'] };
};
