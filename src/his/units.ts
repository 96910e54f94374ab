// Unit names accepted in a point's `unit` tag (spec 3.1 step 7). haystack-core ships no unit
// database (HUnit holds a dozen entries until one is loaded), so this is hxredis's own list of the
// common Haystack unit symbols; units known to HUnit (when an application loads a database) and
// custom units starting with `_` are accepted too.
import { HUnit } from 'haystack-core';

const SYMBOLS = `
% %RH %obscuration/ft %obscuration/m ‰ ppm ppb ppt 1/h 1/min 1/s /h /min /s
m km cm mm μm nm ft in mi yd ft² in² m² cm² mm² km² ha acre ft³ m³ cm³ in³ yd³ L mL gal gal_UK qt pt fl_oz
s ms μs ns min h hr day wk mo yr d
kg g mg t lb oz ton kg/h kg/min kg/s lb/h lb/min lb/s t/h g/s g/min
m/s m/h km/h km/s ft/s ft/min mph knot in/s mm/s cm/s m/min mm/min
m/s² ft/s² g_n
°C °F K °R Δ°C Δ°F ΔK °C/h °C/min °F/h °F/min cdd°C hdd°C cdd°F hdd°F °daysC °daysF
Pa kPa MPa hPa bar mbar psi psia psig atm inHg inH₂O mmH₂O cmH₂O mmHg cmHg ftH₂O inH2O mmH2O torr lbf/in² kgf/cm² N/m²
N kN lbf kgf N·m Nm lbf·ft ft·lbf
W kW MW GW mW TW hp BTU/h kBTU/h MBTU/h Btu/h kBtu/h MBtu/h tonref tonrefh W/m² kW/m² W/ft² kW/ft² mW/m² W/m²K
J kJ MJ GJ Wh kWh MWh GWh TWh BTU kBTU MBTU Btu kBtu MBtu therm thm cal kcal toe ton_hour kWh/m² kWh/ft² kBTU/ft² MJ/m² GJ/m² J/kg kJ/kg BTU/lb Btu/lb kJ/kg_dry BTU/lb_dry
VA kVA MVA VAR kVAR MVAR VAh kVAh MVAh VARh kVARh MVARh
V kV mV MV μV A kA mA μA Ω kΩ MΩ mΩ μΩ S mS μS F μF nF pF H mH μH C Ah mAh
Hz kHz MHz GHz rpm rps 1/rpm cpm
L/s L/min L/h m³/s m³/min m³/h ft³/s ft³/min cfm cfs cfh gal/min gpm gal/h gph gal/s mL/s ml/s Mgal/day
lm lx lux klx fc cd cd/m² nit W/sr lm/W lm/m² lm/ft²
dB dBm dBmV dBW dBA dBμV
kg/m³ g/m³ mg/m³ μg/m³ lb/ft³ g/cm³ g/L mg/L μg/L kg/kg g/kg lb/lb gr/lb grains/lb gr
mol mmol kmol mol/m³ mol/L mmol/L
Bq kBq MBq Ci Gy mGy Sv mSv μSv rem R
m³/kg ft³/lb m²/s cSt cP Pa·s Pa/m kPa/m in/h mm/h
USD $ € £ ¥ EUR GBP JPY CAD AUD CHF CNY INR $/kWh $/h €/kWh
bit kbit Mbit Gbit B kB MB GB TB PB bps kbps Mbps Gbps B/s kB/s MB/s GB/s KiB MiB GiB TiB
pH NTU FNU μS/cm mS/cm ppmv ppbv μmol/m²/s μmol/mol
rad mrad ° deg ′ ″ sr rad/s °/s rad/s²
kgCO2e tCO2e lbCO2e kgCO2e/kWh gCO2e/kWh tCO2/MWh
W/K W/(m·K) BTU/h·ft·°F m²·K/W ft²·h·°F/Btu W/m·K
ppm/h kg/m² lb/ft² N/m m/s³
count cnt pieces ea each unit units occupancy people person persons
`;

const KNOWN = new Set(SYMBOLS.split(/\s+/).filter((s) => s.length > 0));

/** True if `unit` is a valid `unit` tag value. */
export function isKnownUnit(unit: string): boolean {
  if (unit.length === 0) return false;
  if (unit.startsWith('_') && unit.length > 1) return /^_[A-Za-z0-9_]+$/.test(unit);
  if (KNOWN.has(unit)) return true;
  try {
    return HUnit.get(unit) !== undefined;
  } catch {
    return false;
  }
}
