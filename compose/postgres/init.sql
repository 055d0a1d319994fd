-- One database and one login role per node of the compose dataspace (run once, on an empty data volume).
-- Demo passwords: change them (and the URLs in env/*.env) for anything but a local trial.

CREATE ROLE andes_lithium LOGIN PASSWORD 'andes_lithium_pw';
CREATE DATABASE andes_lithium OWNER andes_lithium;
CREATE ROLE sulawesi_nickel LOGIN PASSWORD 'sulawesi_nickel_pw';
CREATE DATABASE sulawesi_nickel OWNER sulawesi_nickel;
CREATE ROLE kansai_precursor LOGIN PASSWORD 'kansai_precursor_pw';
CREATE DATABASE kansai_precursor OWNER kansai_precursor;
CREATE ROLE hokuriku_cathode LOGIN PASSWORD 'hokuriku_cathode_pw';
CREATE DATABASE hokuriku_cathode OWNER hokuriku_cathode;
CREATE ROLE inner_graphite LOGIN PASSWORD 'inner_graphite_pw';
CREATE DATABASE inner_graphite OWNER inner_graphite;
CREATE ROLE setouchi_cell LOGIN PASSWORD 'setouchi_cell_pw';
CREATE DATABASE setouchi_cell OWNER setouchi_cell;
CREATE ROLE kyushu_pack LOGIN PASSWORD 'kyushu_pack_pw';
CREATE DATABASE kyushu_pack OWNER kyushu_pack;
CREATE ROLE nippon_motors LOGIN PASSWORD 'nippon_motors_pw';
CREATE DATABASE nippon_motors OWNER nippon_motors;
CREATE ROLE notified_body_0042 LOGIN PASSWORD 'notified_body_0042_pw';
CREATE DATABASE notified_body_0042 OWNER notified_body_0042;
