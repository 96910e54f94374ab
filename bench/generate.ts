// Synthetic Haystack model for the benchmarks: sites, equips and points with realistic tags and refs,
// built from a fixed seed so every run (and every machine) loads exactly the same records.
//
// Shape (per site): 20-60 equips, each with the points its type usually has (an AHU ~40, a VAV ~12,
// a meter ~8, ...), so the default 100,000 records are 182 sites, 7,209 equips and 92,609 points. Records are
// produced site by site (site, then each equip followed by its points) and the model stops at exactly
// `records` records, so the last site may be short.
import { HDict, HMarker, HNum, HRef, HStr } from 'haystack-core';

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEFAULT_SEED = 0x68787264; // "hxrd"

export interface GenRec {
  /** record id (no `@`) */
  id: string;
  kind: 'site' | 'equip' | 'point';
  /** tags without `id` (Diff.makeAdd takes the id separately) */
  tags: HDict;
}

export interface Model {
  recs: GenRec[];
  siteIds: string[];
  equipIds: string[];
  pointIds: string[];
  /** equip id -> type marker (ahu, vav, ...) */
  equipType: Map<string, string>;
  /** equip id -> site id */
  equipSite: Map<string, string>;
  /** equip id -> number of points */
  equipPoints: Map<string, number>;
}

interface PointTemplate {
  navName: string;
  markers: string[];
  kind: 'Number' | 'Bool';
  unit?: string;
  role: 'sensor' | 'cmd' | 'sp';
}

const P = (navName: string, role: PointTemplate['role'], markers: string, unit?: string): PointTemplate => ({
  navName,
  role,
  markers: markers.split(' ').filter(Boolean),
  kind: unit === undefined ? 'Bool' : 'Number',
  unit,
});

/** Point templates per equip type; an equip gets a seeded subset of at least `min` of them. */
const EQUIP_TYPES: Record<string, { markers: string[]; min: number; weight: number; points: PointTemplate[] }> = {
  ahu: {
    markers: ['ahu', 'hvac'],
    min: 28,
    weight: 0.08,
    points: [
      P('DAT', 'sensor', 'discharge air temp', '°F'),
      P('DATSP', 'sp', 'discharge air temp', '°F'),
      P('RAT', 'sensor', 'return air temp', '°F'),
      P('MAT', 'sensor', 'mixed air temp', '°F'),
      P('OAT', 'sensor', 'outside air temp', '°F'),
      P('RAH', 'sensor', 'return air humidity', '%RH'),
      P('OAH', 'sensor', 'outside air humidity', '%RH'),
      P('DAP', 'sensor', 'discharge air pressure', 'inH₂O'),
      P('DAPSP', 'sp', 'discharge air pressure', 'inH₂O'),
      P('DAFlow', 'sensor', 'discharge air flow', 'cfm'),
      P('OAFlow', 'sensor', 'outside air flow', 'cfm'),
      P('SFCmd', 'cmd', 'discharge air fan run'),
      P('SFStatus', 'sensor', 'discharge air fan run'),
      P('SFSpeed', 'cmd', 'discharge air fan speed', '%'),
      P('RFCmd', 'cmd', 'return air fan run'),
      P('RFStatus', 'sensor', 'return air fan run'),
      P('RFSpeed', 'cmd', 'return air fan speed', '%'),
      P('CCV', 'cmd', 'cool valve', '%'),
      P('HCV', 'cmd', 'heat valve', '%'),
      P('OADmpr', 'cmd', 'outside air damper', '%'),
      P('RADmpr', 'cmd', 'return air damper', '%'),
      P('EADmpr', 'cmd', 'exhaust air damper', '%'),
      P('FilterDP', 'sensor', 'filter air pressure', 'inH₂O'),
      P('FilterAlarm', 'sensor', 'filter alarm'),
      P('Occ', 'sensor', 'occupied'),
      P('OccCmd', 'cmd', 'occupied'),
      P('EconEnable', 'cmd', 'economizing enable'),
      P('CoolStage1', 'cmd', 'cool stage run'),
      P('CoolStage2', 'cmd', 'cool stage run'),
      P('HeatStage1', 'cmd', 'heat stage run'),
      P('ZoneTempAvg', 'sensor', 'zone air temp', '°F'),
      P('ZoneTempSP', 'sp', 'zone air temp', '°F'),
      P('CO2', 'sensor', 'return air co2', 'ppm'),
      P('CO2SP', 'sp', 'return air co2', 'ppm'),
      P('SmokeDet', 'sensor', 'smoke alarm'),
      P('FreezeStat', 'sensor', 'freeze alarm'),
      P('PreheatTemp', 'sensor', 'preheat air temp', '°F'),
      P('PreheatValve', 'cmd', 'preheat valve', '%'),
      P('EnergyKW', 'sensor', 'elec power', 'kW'),
      P('RunHours', 'sensor', 'run hours', 'h'),
    ],
  },
  vav: {
    markers: ['vav', 'hvac'],
    min: 9,
    weight: 0.55,
    points: [
      P('ZoneTemp', 'sensor', 'zone air temp', '°F'),
      P('ZoneTempSP', 'sp', 'zone air temp', '°F'),
      P('ZoneCoolSP', 'sp', 'zone air temp cooling', '°F'),
      P('ZoneHeatSP', 'sp', 'zone air temp heating', '°F'),
      P('DAT', 'sensor', 'discharge air temp', '°F'),
      P('Flow', 'sensor', 'discharge air flow', 'cfm'),
      P('FlowSP', 'sp', 'discharge air flow', 'cfm'),
      P('Damper', 'cmd', 'discharge air damper', '%'),
      P('ReheatValve', 'cmd', 'reheat valve', '%'),
      P('Occ', 'sensor', 'occupied'),
      P('CO2', 'sensor', 'zone air co2', 'ppm'),
      P('ZoneHumidity', 'sensor', 'zone air humidity', '%RH'),
      P('FanCmd', 'cmd', 'fan run'),
      P('FanStatus', 'sensor', 'fan run'),
    ],
  },
  fcu: {
    markers: ['fcu', 'hvac'],
    min: 6,
    weight: 0.12,
    points: [
      P('ZoneTemp', 'sensor', 'zone air temp', '°F'),
      P('ZoneTempSP', 'sp', 'zone air temp', '°F'),
      P('FanCmd', 'cmd', 'fan run'),
      P('FanStatus', 'sensor', 'fan run'),
      P('FanSpeed', 'cmd', 'fan speed', '%'),
      P('CoolValve', 'cmd', 'cool valve', '%'),
      P('HeatValve', 'cmd', 'heat valve', '%'),
      P('DAT', 'sensor', 'discharge air temp', '°F'),
      P('Occ', 'sensor', 'occupied'),
    ],
  },
  meter: {
    markers: ['meter', 'elec'],
    min: 6,
    weight: 0.12,
    points: [
      P('kW', 'sensor', 'elec power', 'kW'),
      P('kWh', 'sensor', 'elec energy', 'kWh'),
      P('kVAR', 'sensor', 'elec reactive power', 'kVAR'),
      P('PF', 'sensor', 'elec pf'),
      P('VoltsAB', 'sensor', 'elec volt', 'V'),
      P('VoltsBC', 'sensor', 'elec volt', 'V'),
      P('AmpsA', 'sensor', 'elec current', 'A'),
      P('AmpsB', 'sensor', 'elec current', 'A'),
      P('AmpsC', 'sensor', 'elec current', 'A'),
      P('Freq', 'sensor', 'elec freq', 'Hz'),
    ],
  },
  chiller: {
    markers: ['chiller', 'hvac'],
    min: 16,
    weight: 0.04,
    points: [
      P('Enable', 'cmd', 'enable'),
      P('Status', 'sensor', 'run'),
      P('CHWST', 'sensor', 'chilled water leaving temp', '°F'),
      P('CHWSTSP', 'sp', 'chilled water leaving temp', '°F'),
      P('CHWRT', 'sensor', 'chilled water entering temp', '°F'),
      P('CWST', 'sensor', 'condenser water entering temp', '°F'),
      P('CWRT', 'sensor', 'condenser water leaving temp', '°F'),
      P('CHWFlow', 'sensor', 'chilled water flow', 'gal/min'),
      P('CWFlow', 'sensor', 'condenser water flow', 'gal/min'),
      P('Load', 'sensor', 'load', '%'),
      P('kW', 'sensor', 'elec power', 'kW'),
      P('Alarm', 'sensor', 'alarm'),
      P('EvapPress', 'sensor', 'refrig evaporator pressure', 'psi'),
      P('CondPress', 'sensor', 'refrig condenser pressure', 'psi'),
      P('RunHours', 'sensor', 'run hours', 'h'),
      P('Starts', 'sensor', 'count'),
      P('DemandLimit', 'sp', 'demand limit', '%'),
      P('IsoValve', 'cmd', 'chilled water isolation valve'),
      P('Efficiency', 'sensor', 'efficiency', 'kW/ton'),
      P('Tons', 'sensor', 'cool capacity', 'tonref'),
    ],
  },
  boiler: {
    markers: ['boiler', 'hvac'],
    min: 10,
    weight: 0.03,
    points: [
      P('Enable', 'cmd', 'enable'),
      P('Status', 'sensor', 'run'),
      P('HWST', 'sensor', 'hot water leaving temp', '°F'),
      P('HWSTSP', 'sp', 'hot water leaving temp', '°F'),
      P('HWRT', 'sensor', 'hot water entering temp', '°F'),
      P('HWFlow', 'sensor', 'hot water flow', 'gal/min'),
      P('FiringRate', 'sensor', 'firing rate', '%'),
      P('GasFlow', 'sensor', 'naturalGas flow', 'ft³/min'),
      P('Alarm', 'sensor', 'alarm'),
      P('FlueTemp', 'sensor', 'flue temp', '°F'),
      P('RunHours', 'sensor', 'run hours', 'h'),
      P('Starts', 'sensor', 'count'),
    ],
  },
  pump: {
    markers: ['pump', 'hvac'],
    min: 4,
    weight: 0.06,
    points: [
      P('Cmd', 'cmd', 'run'),
      P('Status', 'sensor', 'run'),
      P('Speed', 'cmd', 'speed', '%'),
      P('kW', 'sensor', 'elec power', 'kW'),
      P('DP', 'sensor', 'water pressure delta', 'psi'),
      P('Alarm', 'sensor', 'alarm'),
    ],
  },
};

const CITIES: [string, string][] = [
  ['Richmond', 'New_York'],
  ['Chicago', 'Chicago'],
  ['Denver', 'Denver'],
  ['Los Angeles', 'Los_Angeles'],
  ['Seattle', 'Los_Angeles'],
  ['Atlanta', 'New_York'],
  ['Dallas', 'Chicago'],
  ['Phoenix', 'Phoenix'],
  ['Boston', 'New_York'],
  ['Minneapolis', 'Chicago'],
  ['London', 'London'],
  ['Amsterdam', 'Amsterdam'],
];

const SITE_NAMES = ['Tower', 'Plaza', 'Center', 'Campus', 'Hall', 'Building', 'Mall', 'Hospital', 'School', 'Depot'];

function pickWeighted(rand: () => number): string {
  let r = rand();
  for (const [name, t] of Object.entries(EQUIP_TYPES)) {
    r -= t.weight;
    if (r < 0) return name;
  }
  return 'vav';
}

/** Builds the model: exactly `records` records (sites, equips, points), deterministic for a seed. */
export function generateModel(records: number, seed = DEFAULT_SEED): Model {
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const m: Model = {
    recs: [],
    siteIds: [],
    equipIds: [],
    pointIds: [],
    equipType: new Map(),
    equipSite: new Map(),
    equipPoints: new Map(),
  };
  const full = () => m.recs.length >= records;
  const marker = HMarker.make();

  for (let s = 1; !full(); s++) {
    const [city, tzCity] = CITIES[int(0, CITIES.length - 1)] as [string, string];
    const siteId = `s${s}`;
    const siteDis = `${city} ${SITE_NAMES[int(0, SITE_NAMES.length - 1)]} ${s}`;
    const tz = HStr.make(tzCity);
    const siteRef = HRef.make(siteId);
    m.recs.push({
      id: siteId,
      kind: 'site',
      tags: HDict.make({
        site: marker,
        dis: HStr.make(siteDis),
        area: HNum.make(int(20, 400) * 1000, 'ft²'),
        geoCity: HStr.make(city),
        geoCountry: HStr.make(tzCity === 'London' ? 'GB' : tzCity === 'Amsterdam' ? 'NL' : 'US'),
        tz,
        primaryFunction: HStr.make(rand() < 0.7 ? 'Office' : 'Retail Store'),
        yearBuilt: HNum.make(int(1950, 2020)),
      }),
    });
    m.siteIds.push(siteId);

    const nEquips = int(20, 60);
    let ahuRef: HRef | undefined;
    for (let e = 1; e <= nEquips && !full(); e++) {
      // the first equip of a site is its AHU, so every VAV has an ahuRef
      const type = e === 1 ? 'ahu' : pickWeighted(rand);
      const t = EQUIP_TYPES[type] as (typeof EQUIP_TYPES)[string];
      const equipId = `${siteId}.e${e}`;
      const navName = `${type.toUpperCase()}-${e}`;
      const eTags: Record<string, unknown> = { equip: marker, siteRef, dis: HStr.make(`${siteDis} ${navName}`), navName: HStr.make(navName) };
      for (const mk of t.markers) eTags[mk] = marker;
      if (type === 'vav' && ahuRef) eTags.ahuRef = ahuRef;
      m.recs.push({ id: equipId, kind: 'equip', tags: HDict.make(eTags as Record<string, HMarker>) });
      m.equipIds.push(equipId);
      m.equipType.set(equipId, type);
      m.equipSite.set(equipId, siteId);
      const equipRef = HRef.make(equipId);
      if (type === 'ahu') ahuRef = equipRef;

      const nPoints = int(t.min, t.points.length);
      let count = 0;
      for (let p = 0; p < nPoints && !full(); p++) {
        const tpl = t.points[p] as PointTemplate;
        const pointId = `${equipId}.p${p + 1}`;
        const pTags: Record<string, unknown> = {
          point: marker,
          his: marker,
          [tpl.role]: marker,
          kind: HStr.make(tpl.kind),
          equipRef,
          siteRef,
          tz,
          dis: HStr.make(`${siteDis} ${navName} ${tpl.navName}`),
          navName: HStr.make(tpl.navName),
        };
        for (const mk of tpl.markers) pTags[mk] = marker;
        if (tpl.unit !== undefined) pTags.unit = HStr.make(tpl.unit);
        if (tpl.role !== 'sensor') pTags.writable = marker;
        if (rand() < 0.5) pTags.hisCollectCov = marker;
        m.recs.push({ id: pointId, kind: 'point', tags: HDict.make(pTags as Record<string, HMarker>) });
        m.pointIds.push(pointId);
        count++;
      }
      m.equipPoints.set(equipId, count);
    }
  }
  return m;
}
